# Sourced by the scripts: the shared build cache and tool locations.
cache="${VANTHU_CACHE:-$HOME/.cache/vanthu}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
export VANTHU_PYTHON="${VANTHU_PYTHON:-$cache/venv/bin/python}"
export PATH="$cache/venv/bin:$PATH"
# A toolchain change invalidates the target dir: wipe it rather than mix artefacts.
rv="$(rustc -V 2>/dev/null || echo none)"
mkdir -p "$CARGO_TARGET_DIR"
if [ -f "$CARGO_TARGET_DIR/.rustc-version" ] && [ "$(cat "$CARGO_TARGET_DIR/.rustc-version")" != "$rv" ]; then
  rm -rf "$CARGO_TARGET_DIR"
  mkdir -p "$CARGO_TARGET_DIR"
fi
echo "$rv" > "$CARGO_TARGET_DIR/.rustc-version"
