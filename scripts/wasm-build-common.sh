# Shared by the reproducible Wasm build scripts (sourced, not run).

note() { echo "build.sh: $*" >&2; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# deliver_module NAME BUILT COMMITTED MODE
# MODE "check": fail (status 1) unless BUILT is byte-identical to COMMITTED.
# Otherwise: install BUILT as COMMITTED.
deliver_module() {
  local name=$1 built=$2 committed=$3 mode=$4
  if [ "$mode" = check ]; then
    if [ ! -f "$committed" ]; then
      echo "build.sh: error: $committed does not exist" >&2
      return 1
    elif ! cmp -s "$built" "$committed"; then
      echo "build.sh: error: the rebuilt $name.wasm differs from the committed one" >&2
      echo "  committed: $(sha256_of "$committed") ($(stat -c %s "$committed") bytes)" >&2
      echo "  rebuilt:   $(sha256_of "$built") ($(stat -c %s "$built") bytes)" >&2
      return 1
    fi
    note "ok: $name.wasm $(sha256_of "$committed")"
  else
    install -m 644 "$built" "$committed"
    note "wrote $name.wasm $(sha256_of "$committed") ($(stat -c %s "$committed") bytes)"
  fi
}
