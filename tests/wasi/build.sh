#!/usr/bin/env bash
# Reproducible build of the WASI test and benchmark programs in tests/wasi/:
#
#   guest.wasm        guest.rs        Rust (std) for wasm32-wasip1, built with rustc
#   raw.wasm          raw.c           C calling the WASI functions directly
#   sqlite_demo.wasm  sqlite_demo.c   C + the SQLite amalgamation (SQLite's unix VFS on WASI)
#   bench.wasm        bench.c         C benchmark program (benches/wasi.rs)
#
# Building twice, on any machine with the same Debian packages and Rust toolchain,
# gives the same bytes.
#
#   bash tests/wasi/build.sh          build everything and write the .wasm files
#   bash tests/wasi/build.sh --check  build into a temporary directory and fail unless
#                                     every result is byte-identical to the committed file
#
# Toolchain (Debian 12 "bookworm" with bookworm-backports or later):
#   apt-get install -y clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 binaryen
#   (clang runs binaryen's wasm-opt from PATH when it links with -O2: raw.wasm and
#   bench.wasm depend on it being there, at version 108)
#   rustup target add wasm32-wasip1          # rustc 1.95.0
#   apt-get install -y wabt                  # optional: wasm-validate structural check
#
# The SQLite amalgamation is the same pinned, SHA-256-checked source that
# sqlite-wasm/build.sh uses: the crates.io package sqlite3-src 0.7.1, taken from
# cargo's registry cache (fetched with cargo if missing, never built).

set -euo pipefail
export LC_ALL=C TZ=UTC

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CLANG=${CLANG:-clang-19}
RUSTC=${RUSTC:-rustc}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
# Versions the committed modules were built with. Others may still produce the same
# bytes; --check decides, these only explain a failure.
EXPECTED_PACKAGES="clang-19=1:19.1.7-3~deb12u1 lld-19=1:19.1.7-3~deb12u1 wasi-libc=0.0~git20220510.9886d3d-2 libclang-rt-19-dev-wasm32=1:19.1.7-3~deb12u1 binaryen=108-1"
EXPECTED_RUSTC="rustc 1.95.0 (59807616e 2026-04-14)"

SQLITE_CRATE=sqlite3-src
SQLITE_CRATE_VERSION=0.7.1
SQLITE3_C_SHA256=ff80c36ef1bb44eb357c7ff1d15be77540d41c28fb671088215a6cd12785c5d3
SQLITE3_H_SHA256=88da6f1963bc192dfa18a3a48b423cf1fbbb04f903202efe9a78e3a597473e18

# WebAssembly 2.0 without SIMD, spelled out so a newer clang default cannot change the
# output (the same set as sqlite-wasm/build.sh).
FEATURE_FLAGS=(
  -mcpu=mvp
  -mbulk-memory -msign-ext -mnontrapping-fptoint -mmutable-globals
  -mmultivalue -mreference-types
  -mno-simd128 -mno-relaxed-simd -mno-atomics -mno-exception-handling
  -mno-tail-call -mno-extended-const -mno-multimemory -mno-half-precision
)

CFLAGS=(
  --target=wasm32-wasi --sysroot="$WASI_SYSROOT"
  "${FEATURE_FLAGS[@]}"
  -std=c17 -O2 -fno-ident
  -Wall -Wextra -Werror -Wno-unused-result
)

# The name section stays (traps name their function); there is no DWARF to strip at -O2.
LDFLAGS=(-Wl,-z,stack-size=1048576)

SQLITE_OPTIONS=(
  -DSQLITE_THREADSAFE=0          # one thread; no mutexes
  -DSQLITE_OMIT_LOAD_EXTENSION   # no dlopen in WASI
  -DSQLITE_OMIT_WAL              # WAL needs shared memory, which WASI does not have
  -DSQLITE_TEMP_STORE=3          # temporary tables in memory: no temp directory needed
  # SQLite detects __wasi__ itself (SQLITE_WASI): no mmap, and the default VFS is
  # "unix-dotfile", which locks with a DB.lock directory instead of fcntl locks.
)

RUSTFLAGS=(
  --edition 2024 --target wasm32-wasip1 --crate-type bin
  -C opt-level=2 -C codegen-units=1 -C strip=debuginfo
)

die() { echo "build.sh: error: $*" >&2; exit 1; }
# shellcheck source=../../scripts/wasm-build-common.sh
. "$(dirname "$0")/../../scripts/wasm-build-common.sh"
have() { command -v "$1" >/dev/null 2>&1; }

check_toolchain() {
  have "$CLANG" || die "$CLANG not found (apt-get install clang-19)"
  have wasm-opt || die "wasm-opt not found: clang optimizes -O2 links with it (apt-get install binaryen)"
  have "$RUSTC" || die "$RUSTC not found"
  "$CLANG" --version | head -n1 | grep -q 'clang version 19\.' \
    || die "$CLANG is not clang 19: $("$CLANG" --version | head -n1)"
  [ -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ] \
    || die "wasi-libc not found at $WASI_SYSROOT/lib/wasm32-wasi (apt-get install wasi-libc)"
  "$RUSTC" --print target-libdir --target wasm32-wasip1 >/dev/null 2>&1 \
    && [ -d "$("$RUSTC" --print target-libdir --target wasm32-wasip1)" ] \
    || die "the Rust target wasm32-wasip1 is not installed (rustup target add wasm32-wasip1)"
}

toolchain_drift() {
  local entry package expected actual
  if have dpkg-query; then
    for entry in $EXPECTED_PACKAGES; do
      package=${entry%%=*}
      expected=${entry#*=}
      actual=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo "not installed")
      [ "$actual" = "$expected" ] || echo "  $package: built with $expected, found $actual"
    done
  fi
  actual=$("$RUSTC" --version)
  [ "$actual" = "$EXPECTED_RUSTC" ] || echo "  rustc: built with $EXPECTED_RUSTC, found $actual"
}

# Verified sqlite3.c and sqlite3.h into directory $1 (scratch space $2).
fetch_amalgamation() {
  local dest=$1 work=$2
  local cargo_home=${CARGO_HOME:-$HOME/.cargo}
  local crate_file="$SQLITE_CRATE-$SQLITE_CRATE_VERSION.crate"
  local crate
  crate=$(find "$cargo_home/registry/cache" -name "$crate_file" -print -quit 2>/dev/null || true)
  if [ -z "$crate" ]; then
    have cargo || die "cargo not found and $crate_file is not in $cargo_home/registry/cache"
    note "downloading $SQLITE_CRATE $SQLITE_CRATE_VERSION with cargo fetch"
    local project="$work/fetch"
    mkdir -p "$project/src"
    : > "$project/src/lib.rs"
    printf '[package]\nname = "sandlite-sqlite-source"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n%s = "=%s"\n\n[workspace]\n' \
      "$SQLITE_CRATE" "$SQLITE_CRATE_VERSION" > "$project/Cargo.toml"
    (cd "$project" && CARGO_TARGET_DIR="$work/fetch-target" cargo fetch --quiet) \
      || die "cargo fetch of $SQLITE_CRATE $SQLITE_CRATE_VERSION failed"
    crate=$(find "$cargo_home/registry/cache" -name "$crate_file" -print -quit)
    [ -n "$crate" ] || die "cargo fetch did not leave $crate_file in the registry cache"
  fi
  mkdir -p "$work/crate" "$dest"
  local src="$SQLITE_CRATE-$SQLITE_CRATE_VERSION/source"
  tar -xzf "$crate" -C "$work/crate" "$src/sqlite3.c" "$src/sqlite3.h" || die "cannot unpack $crate"
  cp "$work/crate/$src/sqlite3.c" "$work/crate/$src/sqlite3.h" "$dest/"
  [ "$(sha256_of "$dest/sqlite3.c")" = "$SQLITE3_C_SHA256" ] || die "sqlite3.c has the wrong SHA-256"
  [ "$(sha256_of "$dest/sqlite3.h")" = "$SQLITE3_H_SHA256" ] || die "sqlite3.h has the wrong SHA-256"
}

# Each build copies its sources to $work/src and runs there with relative paths, so no
# absolute path can reach the output.
build_c() {
  local work=$1 name=$2
  shift 2
  cp "$here/$name.c" "$work/src/"
  (cd "$work/src" && "$CLANG" "${CFLAGS[@]}" "$@" "$name.c" "${LDFLAGS[@]}" -o "../$name.wasm") \
    || die "building $name.wasm failed"
}

build_sqlite_demo() {
  local work=$1
  fetch_amalgamation "$work/src" "$work"
  cp "$here/sqlite_demo.c" "$work/src/"
  # The amalgamation is compiled on its own: its warnings are SQLite's business.
  (cd "$work/src" \
    && "$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" "${FEATURE_FLAGS[@]}" \
         -std=c17 -O2 -fno-ident -w "${SQLITE_OPTIONS[@]}" -c sqlite3.c -o ../sqlite3.o \
    && "$CLANG" "${CFLAGS[@]}" "${SQLITE_OPTIONS[@]}" -I. -c sqlite_demo.c -o ../sqlite_demo.o \
    && cd .. \
    && "$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" "${FEATURE_FLAGS[@]}" \
         sqlite_demo.o sqlite3.o "${LDFLAGS[@]}" -o sqlite_demo.wasm) \
    || die "building sqlite_demo.wasm failed"
}

build_rust() {
  local work=$1 name=$2
  cp "$here/$name.rs" "$work/src/"
  (cd "$work/src" && "$RUSTC" "${RUSTFLAGS[@]}" --remap-path-prefix="$work/src=." \
     --crate-name "$name" "$name.rs" -o "../$name.wasm") \
    || die "building $name.wasm failed"
}

verify() {
  local wasm=$1
  if have wasm-validate; then
    wasm-validate "$wasm" || die "wasm-validate rejected $wasm"
  fi
  local path
  for path in "$work" "$here" "${CARGO_HOME:-$HOME/.cargo}"; do
    if grep -qaF "$path" "$wasm"; then die "$wasm contains the build path $path"; fi
  done
}

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1' (use --check or no option)" ;;
esac
[ $# -le 1 ] || die "too many arguments"

check_toolchain
work=$(mktemp -d "${TMPDIR:-/tmp}/sandlite-wasi-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"

build_rust "$work" guest
build_c "$work" raw
build_c "$work" bench
build_sqlite_demo "$work"

failed=0
for name in guest raw bench sqlite_demo; do
  verify "$work/$name.wasm"
  deliver_module "$name" "$work/$name.wasm" "$here/$name.wasm" "$mode" || failed=1
done

if [ "$failed" != 0 ]; then
  drift=$(toolchain_drift)
  [ -z "$drift" ] || { echo "toolchain differs from the one the modules were built with:" >&2; echo "$drift" >&2; }
  echo "Rebuild with 'bash tests/wasi/build.sh' if the change is intended." >&2
  exit 1
fi
