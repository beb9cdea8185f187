#!/usr/bin/env bash
# First README command: install what is needed, build vanthu and start it on its embedded
# defaults (a demo agency with sample documents in an encrypted store).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
source scripts/env.sh
echo "[start] building vanthu (release)…" >&2
cargo build --locked --release -p vanthu-cli
bin="$CARGO_TARGET_DIR/release/vanthu"
mkdir -p "$root/bin"
ln -sf "$bin" "$root/bin/vanthu"
echo "[start] vanthu is at ./bin/vanthu" >&2
echo
exec "$bin" demo "$@"
