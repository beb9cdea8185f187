#!/usr/bin/env bash
# Second README command: runs every test (lint, unit, integration, crash, oracle and
# benchmark smoke tests) and ends with one line "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CI="${CI:-}"
logdir="$(mktemp -d)"
passed=0
failed=0
failures=()

say() { printf '\033[1m[test]\033[0m %s\n' "$*"; }

# One pass/fail check (a stage that is not a test runner).
check() {
  local name="$1" limit="$2"; shift 2
  say "$name"
  if timeout "$limit" "$@" >"$logdir/$name.log" 2>&1; then
    passed=$((passed + 1)); say "$name: ok"
  else
    failed=$((failed + 1)); failures+=("$name"); say "$name: FAILED"; tail -n 60 "$logdir/$name.log"
  fi
}

if ! bash scripts/setup.sh; then
  echo "setup failed"; echo "0 passed, 1 failed"; exit 1
fi
source scripts/env.sh

say "build (workspace, all targets)"
timeout 1800 cargo build --locked --workspace --all-targets >"$logdir/build.log" 2>&1
brc=$?
if [ "$brc" != 0 ]; then
  grep -E '^error' -A 12 "$logdir/build.log" | head -80; tail -n 20 "$logdir/build.log"
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

check rustfmt 300 cargo fmt --all --check
check clippy 1200 cargo clippy --locked --workspace --all-targets -- -D warnings

say "cargo test (workspace)"
timeout 2400 cargo test --locked --workspace --no-fail-fast 2>&1 | tee "$logdir/cargo-test.log" \
  | grep -E '^(test result:|     Running|test .* FAILED|---- )' || true
rc=${PIPESTATUS[0]}
read -r p f < <(grep -E '^test result:' "$logdir/cargo-test.log" \
  | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' \
  | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
passed=$((passed + p)); failed=$((failed + f))
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
  failed=$((failed + 1)); failures+=("cargo-test(exit $rc)")
  grep -E '^error' -A 12 "$logdir/cargo-test.log" | head -60
fi
if [ "$f" != 0 ]; then
  failures+=("cargo-test")
  grep -E -A 30 '^---- ' "$logdir/cargo-test.log" | head -200
fi

check bench-smoke 900 cargo xtask bench --quick
# The real desktop window under Xvfb, on a fresh demo store: it must open and render.
check desktop-window 900 bash src-tauri/screenshot.sh "$(mktemp -d)/shot.png"

rm -rf "$logdir"
echo
if ((${#failures[@]})); then say "failed: ${failures[*]}"; fi
echo "${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
