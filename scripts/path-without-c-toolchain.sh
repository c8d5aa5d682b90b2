#!/usr/bin/env bash
# Prints a new directory holding links to every command on PATH except C/C++ compilers and
# linkers, so a build run with PATH set to it proves it needs no C toolchain.
nocc=$(mktemp -d)
IFS=: read -ra dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  for f in "$d"/*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    case "$n" in
      cc|c++|c89|c99|cpp|gcc|gcc-*|g++|g++-*|clang|clang-*|clang++*|*-gcc|*-gcc-*|*-g++|*-g++-*|*-cc|ld|ld.*|*-ld|*-ld.*|lld|lld-*|ld64.lld*|wasm-ld*|tcc|musl-gcc) continue ;;
    esac
    [ -e "$nocc/$n" ] || ln -s "$f" "$nocc/$n"
  done
done
echo "$nocc"
