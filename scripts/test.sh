#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs the Rust, Python and JS suites.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }
export EMBER_BIN="${CARGO_TARGET_DIR:-$(pwd)/target}/release/ember"
export PATH="$(pwd)/.tools/venv/bin:$PATH"
# Every supported CPython must be present (setup.sh provisions 3.14/3.15).
export EMBER_REQUIRE_ALL_PYTHONS=${EMBER_REQUIRE_ALL_PYTHONS:-1}
passed=0; failed=0
run() {
  echo; echo "== $*"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
run cargo test --workspace --release --no-fail-fast
if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  run .tools/venv/bin/python -m pytest -q tests/python
fi
if [ -d tests/js ] && ls tests/js/*.test.mjs >/dev/null 2>&1; then
  run node --test --test-concurrency=1 tests/js/
fi
echo
echo "suites: $passed passed, $failed failed"
[ "$failed" = 0 ]
