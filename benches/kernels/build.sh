#!/usr/bin/env bash
# Reproducible build of the VM benchmark kernels: each benches/kernels/NAME.c
# becomes benches/kernels/NAME.wasm, compiled for wasm32 with Debian's
# clang-19 and lld-19, freestanding (no libc, no imports). Building twice, on
# any machine with the same Debian packages, gives the same bytes.
#
#   bash benches/kernels/build.sh          build every kernel and write the .wasm files
#   bash benches/kernels/build.sh --check  build into a temporary directory and fail
#                                          unless every result is byte-identical to the
#                                          committed .wasm file
#
# Toolchain (Debian 12 "bookworm" with bookworm-backports or later):
#   apt-get install -y clang-19 lld-19
#   apt-get install -y wabt    # optional: wasm-validate / wasm-objdump structural checks
#
# The Rust side (benches/kernels/kernels.rs) holds the same algorithms in
# native Rust; benches/vm.rs and tests/kernels.rs compare the two.

set -euo pipefail
export LC_ALL=C TZ=UTC

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CLANG=${CLANG:-clang-19}
WASM_LD=${WASM_LD:-wasm-ld-19}
# Package versions the committed modules were built with. Other versions may
# still produce the same bytes; --check decides, these only explain a failure.
EXPECTED_PACKAGES="clang-19=1:19.1.7-3~deb12u1 lld-19=1:19.1.7-3~deb12u1"

# Kernel source name and the one function it exports (besides its memory).
KERNELS=(
  fib:fib
  sieve:sieve
  matmul:matmul
  calls:calls
  sort:sort_hash
)

# WebAssembly 2.0 without SIMD, spelled out so a newer clang default cannot
# change the output: bulk memory, sign extension, non-trapping float-to-int,
# mutable globals, multi-value and reference types; nothing else.
WASM_FEATURES=bulk-memory,multivalue,mutable-globals,nontrapping-fptoint,reference-types,sign-ext
FEATURE_FLAGS=(
  -mcpu=mvp
  -mbulk-memory -msign-ext -mnontrapping-fptoint -mmutable-globals
  -mmultivalue -mreference-types
  -mno-simd128 -mno-relaxed-simd -mno-atomics -mno-exception-handling
  -mno-tail-call -mno-extended-const -mno-multimemory -mno-half-precision
)

CFLAGS=(
  --target=wasm32 -ffreestanding -nostdlib
  "${FEATURE_FLAGS[@]}"
  -std=c17 -O2
  -fno-ident
  -Wall -Wextra -Werror
)

LDFLAGS=(
  --no-entry                    # a library of exported functions, no _start
  --export-memory               # the host reads results and sizes from it
  --stack-first -z stack-size=65536
  --features="$WASM_FEATURES"   # refuse any object using another feature
  --strip-all --keep-section=name --keep-section=target_features
)

die() { echo "build.sh: error: $*" >&2; exit 1; }
# shellcheck source=../../scripts/wasm-build-common.sh
. "$(dirname "$0")/../../scripts/wasm-build-common.sh"
have() { command -v "$1" >/dev/null 2>&1; }

check_toolchain() {
  have "$CLANG" || die "$CLANG not found (apt-get install clang-19)"
  have "$WASM_LD" || die "$WASM_LD not found (apt-get install lld-19)"
  "$CLANG" --version | head -n1 | grep -q 'clang version 19\.' \
    || die "$CLANG is not clang 19: $("$CLANG" --version | head -n1)"
}

# Installed versions of the toolchain packages that differ from the ones the
# committed modules were built with (nothing when they all match).
toolchain_drift() {
  have dpkg-query || { echo "  (dpkg-query unavailable: cannot compare package versions)"; return; }
  local entry package expected actual
  for entry in $EXPECTED_PACKAGES; do
    package=${entry%%=*}
    expected=${entry#*=}
    actual=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo "not installed")
    [ "$actual" = "$expected" ] || echo "  $package: built with $expected, found $actual"
  done
}

# Compile kernel $2 (exporting $3) into $1/$2.wasm. The source is copied to a
# fixed relative path first so that no absolute path can reach the output.
build_kernel() {
  local work=$1 name=$2 export_name=$3
  mkdir -p "$work/src"
  cp "$here/$name.c" "$work/src/$name.c"
  (cd "$work/src" && "$CLANG" "${CFLAGS[@]}" -c "$name.c" -o "../$name.o") \
    || die "compiling $name.c failed"
  (cd "$work" && "$WASM_LD" "${LDFLAGS[@]}" --export="$export_name" "$name.o" -o "$name.wasm") \
    || die "linking $name.wasm failed"
  local path
  for path in "$work" "$here"; do
    if grep -qaF "$path" "$work/$name.wasm"; then die "$name.wasm contains the build path $path"; fi
  done
}

# Structural checks with wabt: valid WebAssembly 2.0 without SIMD, no imports,
# exactly the memory and the kernel function exported.
verify_kernel() {
  local wasm=$1 export_name=$2
  local validate_flags=(--disable-simd) proposal
  for proposal in relaxed-simd threads tail-call exceptions extended-const \
    multi-memory memory64 function-references gc; do
    if wasm-validate --help | grep -q -- "--disable-$proposal "; then
      validate_flags+=("--disable-$proposal")
    fi
  done
  wasm-validate "${validate_flags[@]}" "$wasm" || die "wasm-validate rejected $wasm"
  local dump
  dump=$(wasm-objdump -x "$wasm")
  if grep -q '^Import\[' <<<"$dump"; then die "$wasm has imports"; fi
  local exports
  exports=$(sed -n '/^Export\[/,/^[A-Z]/p' <<<"$dump" | sed -n 's/.* -> "\(.*\)"$/\1/p' | sort | paste -sd' ')
  local expected
  expected=$(printf '%s\n' memory "$export_name" | sort | paste -sd' ')
  [ "$exports" = "$expected" ] || die "$wasm exports '$exports', expected '$expected'"
}

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1' (use --check or no option)" ;;
esac
[ $# -le 1 ] || die "too many arguments"

check_toolchain
work=$(mktemp -d "${TMPDIR:-/tmp}/sandlite-kernels.XXXXXX")
trap 'rm -rf "$work"' EXIT

have wasm-validate && have wasm-objdump || note "wabt not installed: structural checks skipped"

failed=0
for entry in "${KERNELS[@]}"; do
  name=${entry%%:*}
  export_name=${entry#*:}
  build_kernel "$work" "$name" "$export_name"
  if have wasm-validate && have wasm-objdump; then verify_kernel "$work/$name.wasm" "$export_name"; fi
  deliver_module "$name" "$work/$name.wasm" "$here/$name.wasm" "$mode" || failed=1
done

if [ "$failed" != 0 ]; then
  drift=$(toolchain_drift)
  [ -z "$drift" ] || { echo "toolchain differs from the one the modules were built with:" >&2; echo "$drift" >&2; }
  echo "Rebuild with 'bash benches/kernels/build.sh' if the change is intended." >&2
  exit 1
fi
