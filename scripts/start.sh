#!/usr/bin/env bash
# First README command: install what is needed, build vanthu and start it on its embedded
# defaults — a demo agency with sample documents in an encrypted store. With a display, the
# desktop window opens on it; without one, the command line prints the register.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
source scripts/env.sh
echo "[start] building vanthu (command line, release)…" >&2
cargo build --locked --release -p vanthu-cli
bin="$CARGO_TARGET_DIR/release/vanthu"
mkdir -p "$root/bin"
ln -sf "$bin" "$root/bin/vanthu"
echo "[start] vanthu is at ./bin/vanthu" >&2
echo
"$bin" demo "$@"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${VANTHU_NO_WINDOW:-}" ]; then
  echo
  echo "[start] building the desktop window (the first build takes about 15 minutes on 2 cores)…" >&2
  cargo build --locked --release -p vanthu-desktop
  ln -sf "$CARGO_TARGET_DIR/release/vanthu-desktop" "$root/bin/vanthu-desktop"
  echo "[start] opening the desktop window (./bin/vanthu-desktop)…" >&2
  exec "$CARGO_TARGET_DIR/release/vanthu-desktop"
else
  echo
  echo "[start] no display: the desktop window was not opened (set DISPLAY, or run ./bin/vanthu-desktop after 'cargo build --release -p vanthu-desktop')." >&2
fi
