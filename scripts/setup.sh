#!/usr/bin/env bash
# Installs everything vanthu's build and tests need on Debian, idempotently:
# Debian packages listed in scripts/apt-packages.txt, and a Python venv with the oracles in
# scripts/requirements.txt. Safe to run again: it only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VANTHU_CACHE:-$HOME/.cache/vanthu}"
mkdir -p "$cache"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# 1. Debian packages
mapfile -t pkgs < <(grep -v '^\s*#' "$here/apt-packages.txt" | awk 'NF {print $1}' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt (an unattended upgrade, a second setup) may hold the lock: wait for it.
  apt_try() {
    local i
    for i in $(seq 1 24); do
      if $sudo_cmd apt-get -o DPkg::Lock::Timeout=10 "$@"; then return 0; fi
      log "apt busy or failed (attempt $i), retrying in 5 s"
      sleep 5
    done
    return 1
  }
  apt_try update -qq
  apt_try install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages: all present"
fi

# 2. Rust toolchain (rustup reads rust-toolchain.toml)
if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found: install Rust with rustup first (https://rustup.rs), then run this again"
  exit 1
fi

# 3. Python oracles in a venv keyed on the requirements' hash
venv="$cache/venv"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
have="$(cat "$venv/.requirements.sha256" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -x "$venv/bin/python" ]; then
  log "creating Python venv with the test oracles"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$venv/.requirements.sha256"
else
  log "Python oracles: up to date"
fi
