#!/usr/bin/env bash
# Takes a real screenshot of the desktop window under Xvfb (no display, no window manager).
#
#   bash src-tauri/screenshot.sh [OUT.png]      # default: docs/screenshot.png
#
# Builds `vanthu-desktop` if needed (own target dir, see build-and-test.md §10), starts it on a
# fresh demo store in a throw-away XDG_DATA_HOME (so the user's own demo store is untouched;
# set VANTHU_DATA/VANTHU_PASSPHRASE to show another store), waits for the window and the
# register to render, grabs the root window with xwd, crops it to the app window and writes a
# PNG. Needs: xvfb x11-utils x11-apps imagemagick dbus libgl1-mesa-dri fonts-noto-core.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/docs/screenshot.png}
case $out in /*) ;; *) out=$PWD/$out ;; esac
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vanthu/target-desktop}
bin=$CARGO_TARGET_DIR/debug/vanthu-desktop

(cd "$root" && cargo build -p vanthu-desktop --locked)

mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What runs inside the X server: start the app, wait for its window, capture, stop the app.
cat >"$work/inner.sh" <<'INNER'
#!/usr/bin/env bash
set -euo pipefail
bin=$1 out=$2 work=$3
"$bin" >"$work/app.log" 2>&1 &
app=$!
win=""
for _ in $(seq 1 150); do
    if ! kill -0 "$app" 2>/dev/null; then
        echo "vanthu-desktop exited early:" >&2; cat "$work/app.log" >&2; exit 1
    fi
    win=$(xwininfo -root -tree 2>/dev/null | grep -F 'Sổ đăng ký văn bản đến' | awk '{print $1}' | head -n1 || true)
    [ -n "$win" ] && break
    sleep 0.2
done
if [ -z "$win" ]; then
    echo "no vanthu window after 30 s" >&2; cat "$work/app.log" >&2; kill "$app"; exit 1
fi
# Let WebKit load the page, run the IPC call (first start creates and seeds the demo store)
# and paint.
sleep "${VANTHU_SHOT_DELAY:-6}"
geom=$(xwininfo -id "$win" | awk '/Absolute upper-left X/{x=$NF} /Absolute upper-left Y/{y=$NF} /Width:/{w=$NF} /Height:/{h=$NF} END{printf "%dx%d+%d+%d", w, h, x, y}')
xwd -root -silent | convert xwd:- -crop "$geom" +repage -strip -define png:compression-level=9 "$out"
kill "$app"
wait "$app" 2>/dev/null || true
INNER

export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 \
    LIBGL_ALWAYS_SOFTWARE=1
if [ -z "${VANTHU_DATA:-}" ]; then
    export XDG_DATA_HOME=$work/data
fi
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$work/inner.sh" "$bin" "$out" "$work"
echo "screenshot: $out ($(stat -c %s "$out") bytes)"
