#!/usr/bin/env bash
# Reproducible build of sqlite-wasm/sqlite3.wasm: SQLite 3.49.1 plus the
# Sandlite shim, compiled for wasm32 with Debian's clang-19, lld-19 and
# wasi-libc. Building twice, on any machine with the same Debian packages,
# gives the same bytes.
#
#   bash sqlite-wasm/build.sh           build, verify, write sqlite-wasm/sqlite3.wasm
#                                       and refresh the generated ABI lists in README.md
#   bash sqlite-wasm/build.sh --check   build in a temporary directory and fail unless the
#                                       result is byte-identical to the committed module
#   bash sqlite-wasm/build.sh --list    print the imports and exports of the committed
#                                       module with their Wasm signatures (needs wabt)
#
# Toolchain (Debian 12 "bookworm" with bookworm-backports or later):
#   apt-get install -y clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
#   apt-get install -y wabt     # wasm-objdump / wasm-validate: required to write the
#                               # module; optional for --check (see verify_module)
#   cargo                       # only to download the pinned SQLite source
#
# The SQLite amalgamation comes from the crates.io package sqlite3-src 0.7.1
# (fetched with cargo into CARGO_HOME, never built) and is checked by SHA-256.

set -euo pipefail
export LC_ALL=C TZ=UTC

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module="$here/sqlite3.wasm"
readme="$here/README.md"
shim_dir="$here/shim"

# ---- pinned inputs ---------------------------------------------------------

SQLITE_VERSION=3.49.1
SQLITE_CRATE=sqlite3-src
SQLITE_CRATE_VERSION=0.7.1
SQLITE3_C_SHA256=ff80c36ef1bb44eb357c7ff1d15be77540d41c28fb671088215a6cd12785c5d3
SQLITE3_H_SHA256=88da6f1963bc192dfa18a3a48b423cf1fbbb04f903202efe9a78e3a597473e18

CLANG=${CLANG:-clang-19}
WASM_LD=${WASM_LD:-wasm-ld-19}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
# Package versions the committed module was built with. Other versions may
# still produce the same bytes; --check decides, these only explain a failure.
EXPECTED_PACKAGES="clang-19=1:19.1.7-3~deb12u1 lld-19=1:19.1.7-3~deb12u1 wasi-libc=0.0~git20220510.9886d3d-2 libclang-rt-19-dev-wasm32=1:19.1.7-3~deb12u1"

# ---- compile and link options ------------------------------------------------

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

SQLITE_OPTIONS=(
  -DSQLITE_OS_OTHER=1             # no OS layer: the shim's VFS calls the host
  -DSQLITE_THREADSAFE=0           # one thread per instance; no mutexes
  -DSQLITE_TEMP_STORE=3           # temporary tables and indices always in memory
  -DSQLITE_DQS=0                  # double-quoted strings are identifiers only
  -DSQLITE_DEFAULT_MEMSTATUS=0    # no allocation statistics (sandlite_config_memstatus)
  -DSQLITE_MAX_MMAP_SIZE=0        # no memory-mapped I/O; the VFS has no xFetch
  -DSQLITE_OMIT_LOAD_EXTENSION
  -DSQLITE_OMIT_SHARED_CACHE
  -DSQLITE_OMIT_DEPRECATED
  -DSQLITE_ENABLE_API_ARMOR       # misuse through the ABI returns SQLITE_MISUSE
  -DSQLITE_ENABLE_FTS5
  -DSQLITE_ENABLE_RTREE
  -DSQLITE_ENABLE_MATH_FUNCTIONS
  -DSQLITE_ENABLE_COLUMN_METADATA
  -DSQLITE_ENABLE_STAT4
  -DSQLITE_ENABLE_DBSTAT_VTAB
  # wasi-libc has no time zones: route SQLite's localtime_r() to the shim,
  # which asks the host for the UTC offset (sl_localtime_offset).
  -DHAVE_LOCALTIME_R=1
  -Dlocaltime_r=sandlite_localtime_r
)

STACK_SIZE=1048576  # 1 MiB shadow stack, placed first so an overflow traps

# ---- helpers -------------------------------------------------------------------

die() { echo "build.sh: error: $*" >&2; exit 1; }
note() { echo "build.sh: $*" >&2; }

have() { command -v "$1" >/dev/null 2>&1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Non-comment, non-blank lines of exports.txt.
export_names() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$shim_dir/exports.txt"; }

# Names declared with SL_IMPORT(...) in the shim header.
import_names() { sed -n 's/^SL_IMPORT(\([a-z0-9_]*\))$/\1/p' "$shim_dir/sandlite_shim.h"; }

builtins_archive() {
  "$CLANG" --target=wasm32-wasi --rtlib=compiler-rt -print-libgcc-file-name
}

check_toolchain() {
  have "$CLANG" || die "$CLANG not found (apt-get install clang-19)"
  have "$WASM_LD" || die "$WASM_LD not found (apt-get install lld-19)"
  [ -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ] \
    || die "wasi-libc not found at $WASI_SYSROOT/lib/wasm32-wasi (apt-get install wasi-libc)"
  [ -f "$WASI_SYSROOT/lib/wasm32-wasi/crt1-reactor.o" ] \
    || die "crt1-reactor.o missing from wasi-libc"
  [ -f "$WASI_SYSROOT/include/wasm32-wasi/stdlib.h" ] \
    || die "wasi-libc headers not found at $WASI_SYSROOT/include/wasm32-wasi"
  local builtins
  builtins=$(builtins_archive)
  [ -f "$builtins" ] || die "$builtins missing (apt-get install libclang-rt-19-dev-wasm32)"
  "$CLANG" --version | head -n1 | grep -q 'clang version 19\.' \
    || die "$CLANG is not clang 19: $("$CLANG" --version | head -n1)"
}

# Print installed versions of the toolchain packages that differ from the
# ones the committed module was built with (nothing when they all match).
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

# Put verified sqlite3.c and sqlite3.h into directory $1.
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
    cat > "$project/Cargo.toml" <<EOF
[package]
name = "sandlite-sqlite-source"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$SQLITE_CRATE = "=$SQLITE_CRATE_VERSION"

[workspace]
EOF
    (cd "$project" && CARGO_TARGET_DIR="$work/fetch-target" cargo fetch --quiet) \
      || die "cargo fetch of $SQLITE_CRATE $SQLITE_CRATE_VERSION failed"
    crate=$(find "$cargo_home/registry/cache" -name "$crate_file" -print -quit)
    [ -n "$crate" ] || die "cargo fetch did not leave $crate_file in $cargo_home/registry/cache"
  fi
  local unpacked="$work/crate"
  mkdir -p "$unpacked"
  tar -xzf "$crate" -C "$unpacked" \
    "$SQLITE_CRATE-$SQLITE_CRATE_VERSION/source/sqlite3.c" \
    "$SQLITE_CRATE-$SQLITE_CRATE_VERSION/source/sqlite3.h" \
    || die "cannot unpack $crate"
  mkdir -p "$dest"
  cp "$unpacked/$SQLITE_CRATE-$SQLITE_CRATE_VERSION/source/sqlite3.c" \
     "$unpacked/$SQLITE_CRATE-$SQLITE_CRATE_VERSION/source/sqlite3.h" "$dest/"
  [ "$(sha256_of "$dest/sqlite3.c")" = "$SQLITE3_C_SHA256" ] \
    || die "sqlite3.c from $crate has SHA-256 $(sha256_of "$dest/sqlite3.c"), expected $SQLITE3_C_SHA256"
  [ "$(sha256_of "$dest/sqlite3.h")" = "$SQLITE3_H_SHA256" ] \
    || die "sqlite3.h from $crate has SHA-256 $(sha256_of "$dest/sqlite3.h"), expected $SQLITE3_H_SHA256"
  grep -q "^#define SQLITE_VERSION  *\"$SQLITE_VERSION\"" "$dest/sqlite3.h" \
    || die "sqlite3.h is not SQLite $SQLITE_VERSION"
}

# Compile and link into $2 inside work directory $1.
build_module() {
  local work=$1 out=$2
  fetch_amalgamation "$work/sqlite" "$work"

  # Build from copies under fixed relative paths so that no absolute path
  # can reach the output (there is no debug info or __FILE__ either).
  mkdir -p "$work/src"
  cp "$shim_dir/sandlite_shim.c" "$shim_dir/sandlite_shim.h" "$work/src/"
  cp "$work/sqlite/sqlite3.c" "$work/sqlite/sqlite3.h" "$work/src/"

  local cflags=(
    --target=wasm32-wasi --sysroot="$WASI_SYSROOT"
    "${FEATURE_FLAGS[@]}"
    -std=gnu17 -O2 -DNDEBUG
    -fno-ident -ffile-prefix-map="$work"=.
    -Wall -Wextra -Werror
    "${SQLITE_OPTIONS[@]}"
  )
  (cd "$work/src" && "$CLANG" "${cflags[@]}" -c sandlite_shim.c -o ../sandlite.o) \
    || die "compiling sandlite_shim.c failed"

  local exports=() name
  while IFS= read -r name; do exports+=("--export=$name"); done < <(export_names)

  local ldflags=(
    --no-entry
    --export=_initialize          # wasi-libc's crt1-reactor: run constructors once
    --export-memory
    "${exports[@]}"
    --stack-first -z "stack-size=$STACK_SIZE"
    --features="$WASM_FEATURES"   # refuse any input object using another feature
    --compress-relocations
    --strip-all --keep-section=name --keep-section=target_features
  )
  (cd "$work" && "$WASM_LD" "${ldflags[@]}" \
    "$WASI_SYSROOT/lib/wasm32-wasi/crt1-reactor.o" \
    sandlite.o \
    "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" \
    "$(builtins_archive)" \
    -o "$out") || die "linking failed"

  # Paths of this build must not leak into the module.
  local path
  for path in "$work" "$here"; do
    if grep -qaF "$path" "$out"; then die "the module contains the build path $path"; fi
  done
}

have_wabt() { have wasm-objdump && have wasm-validate; }

# Structural checks with wabt; exits through die() on the first failure.
verify_module() {
  local wasm=$1 work=$2

  # Valid under WebAssembly 2.0 minus SIMD. wabt enables exactly the 2.0
  # proposals by default; switch off any later one a newer wabt turns on.
  local validate_flags=(--disable-simd) proposal
  for proposal in relaxed-simd threads tail-call exceptions extended-const \
    multi-memory memory64 function-references gc; do
    if wasm-validate --help | grep -q -- "--disable-$proposal "; then
      validate_flags+=("--disable-$proposal")
    fi
  done
  wasm-validate "${validate_flags[@]}" "$wasm" || die "wasm-validate rejected the module"

  local dump="$work/objdump.txt"
  wasm-objdump -x "$wasm" > "$dump"

  # Imports: exactly the SL_IMPORT functions of the shim, all from "env".
  local bad
  bad=$(sed -n '/^Import\[/,/^[A-Z]/p' "$dump" | grep '^ - ' | grep -v '^ - func\[[0-9]*\] sig=[0-9]* <[a-z0-9_]*> <- env\.sl_[a-z0-9_]*$' || true)
  [ -z "$bad" ] || die "unexpected imports:"$'\n'"$bad"
  diff <(sed -n '/^Import\[/,/^[A-Z]/p' "$dump" | sed -n 's/.* <- env\.\(.*\)$/\1/p' | sort) \
       <(import_names | sort) >/dev/null \
    || die "imports differ from the SL_IMPORT declarations in sandlite_shim.h"

  # Exports: memory, _initialize and exports.txt, nothing more.
  diff <(sed -n '/^Export\[/,/^[A-Z]/p' "$dump" | sed -n 's/.* -> "\(.*\)"$/\1/p' | sort) \
       <({ echo memory; echo _initialize; export_names; } | sort) \
    || die "exports differ from exports.txt (see diff above)"

  # One memory, exported, without a maximum: the host sets the limit.
  sed -n '/^Memory\[/,/^[A-Z]/p' "$dump" | grep -q '^ - memory\[0\] pages: initial=[0-9]*$' \
    || die "memory must have an initial size and no maximum: $(grep 'memory\[0\] pages' "$dump")"

  # Custom sections: the function names (for trap messages) and the feature
  # list; no DWARF, no producers.
  local customs
  customs=$(wasm-objdump -h "$wasm" | sed -n 's/.*Custom .*"\(.*\)"$/\1/p' | sort | tr '\n' ' ')
  [ "$customs" = "name target_features " ] \
    || die "unexpected custom sections: $customs"

  local features
  features=$(sed -n '/name: "target_features"/,/^[A-Z]/p' "$dump" | sed -n 's/^  - \[+\] //p' | sort | paste -sd, -)
  [ "$features" = "$WASM_FEATURES" ] \
    || die "target features are '$features', expected '$WASM_FEATURES'"
  return 0
}

# Markdown tables of the module's imports and exports with signatures.
list_abi() {
  local wasm=$1 rows
  have wasm-objdump || die "--list needs wasm-objdump (apt-get install wabt)"
  rows=$(wasm-objdump -x "$wasm" | awk '
    /^[A-Z][A-Za-z]*\[[0-9]+\]:$/ { section = substr($0, 1, index($0, "[") - 1); next }
    /^[A-Z]/ { section = ""; next }
    section == "Type" && /^ - type\[/ {
      i = substr($2, 6, length($2) - 6)
      type[i] = substr($0, index($0, "]") + 2)
      next
    }
    section == "Import" && /^ - func\[/ {
      sig = substr($3, 5)
      name = $NF; sub(/^env\./, "", name)
      imports[++n_imports] = sprintf("| `%s` | `%s` |", name, type[sig])
      next
    }
    section == "Function" && /^ - func\[/ {
      f = substr($2, 6, length($2) - 6)
      func_sig[f] = substr($3, 5)
      next
    }
    section == "Import" { next }
    section == "Export" && /^ - func\[/ {
      f = substr($2, 6, length($2) - 6)
      name = $NF; gsub(/"/, "", name)
      exports[++n_exports] = sprintf("| `%s` | `%s` |", name, type[func_sig[f]])
      next
    }
    section == "Export" && /^ - memory\[/ {
      name = $NF; gsub(/"/, "", name)
      exports[++n_exports] = sprintf("| `%s` | memory |", name)
      next
    }
    END {
      for (i = 1; i <= n_imports; i++) print "I" imports[i]
      for (i = 1; i <= n_exports; i++) print "E" exports[i]
    }' | sed 's/ -> nil`/ -> ()`/' | sort)
  echo "Imports (all from module \`env\`), by name:"
  echo
  echo "| import | signature |"
  echo "|---|---|"
  sed -n 's/^I//p' <<<"$rows"
  echo
  echo "Exports, by name:"
  echo
  echo "| export | signature |"
  echo "|---|---|"
  sed -n 's/^E//p' <<<"$rows"
}

readme_begin='<!-- BEGIN GENERATED by build.sh: imports and exports of sqlite3.wasm -->'
readme_end='<!-- END GENERATED -->'

# Print README.md with the generated block replaced by file $1.
readme_with_listing() {
  local listing=$1
  grep -qxF "$readme_begin" "$readme" && grep -qxF "$readme_end" "$readme" \
    || die "README.md lacks the generated-block markers"
  awk -v begin="$readme_begin" -v end="$readme_end" -v listing="$listing" '
    $0 == begin { print; print ""; while ((getline line < listing) > 0) print line; print ""; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$readme"
}

# ---- main --------------------------------------------------------------------------

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  --list) mode=list ;;
  -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1' (use --check, --list or no option)" ;;
esac
[ $# -le 1 ] || die "too many arguments"

if [ "$mode" = list ]; then
  [ -f "$module" ] || die "$module does not exist; run build.sh first"
  list_abi "$module"
  exit 0
fi

check_toolchain
work=$(mktemp -d "${TMPDIR:-/tmp}/sandlite-wasm-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

build_module "$work" "$work/sqlite3.wasm"
verified=no
if have_wabt; then
  verify_module "$work/sqlite3.wasm" "$work"
  verified=yes
else
  note "wabt (wasm-objdump, wasm-validate) not installed: structural checks skipped"
fi

if [ "$mode" = check ]; then
  [ -f "$module" ] || die "$module does not exist"
  if ! cmp -s "$work/sqlite3.wasm" "$module"; then
    echo "build.sh: error: the rebuilt module differs from the committed sqlite-wasm/sqlite3.wasm" >&2
    echo "  committed: $(sha256_of "$module") ($(stat -c %s "$module") bytes)" >&2
    echo "  rebuilt:   $(sha256_of "$work/sqlite3.wasm") ($(stat -c %s "$work/sqlite3.wasm") bytes)" >&2
    drift=$(toolchain_drift)
    [ -z "$drift" ] || { echo "toolchain differs from the one the module was built with:" >&2; echo "$drift" >&2; }
    echo "Rebuild with 'bash sqlite-wasm/build.sh' if the change is intended." >&2
    exit 1
  fi
  if [ "$verified" = yes ]; then
    list_abi "$work/sqlite3.wasm" > "$work/listing.md"
    readme_with_listing "$work/listing.md" | cmp -s - "$readme" \
      || die "README.md's generated import/export lists are stale; run 'bash sqlite-wasm/build.sh'"
  else
    # Byte identity with the committed module, which passed these checks
    # when it was built, implies them.
    note "relying on byte identity for the structural checks"
  fi
  note "ok: sqlite3.wasm is reproducible ($(sha256_of "$module"))"
  exit 0
fi

[ "$verified" = yes ] || die "writing the module requires wabt for its structural checks (apt-get install wabt)"
drift=$(toolchain_drift)
[ -z "$drift" ] || { note "warning: toolchain differs from the recorded one:"; echo "$drift" >&2; }
cp "$work/sqlite3.wasm" "$module"
chmod 644 "$module"
list_abi "$module" > "$work/listing.md"
readme_with_listing "$work/listing.md" > "$work/README.md"
cat "$work/README.md" > "$readme"
note "wrote $module: $(stat -c %s "$module") bytes, sha256 $(sha256_of "$module")"
