#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs the Rust, Python and JS suites.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }
export EMBER_BIN="$(pwd)/target/release/ember"
export PATH="$(pwd)/.tools/venv/bin:$PATH"
fail=0
run() { echo; echo "== $*"; "$@" || fail=1; }
run cargo test --workspace --release
if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  run .tools/venv/bin/python -m pytest -q tests/python
fi
if [ -d tests/js ] && ls tests/js/*.test.mjs >/dev/null 2>&1; then
  run node --test --test-concurrency=1 tests/js/
fi
echo
if [ $fail = 0 ]; then echo "ember test suite: all suites passed"; else echo "ember test suite: FAILED"; fi
exit $fail
