#!/usr/bin/env bash
# Inlay-hint latency (p50/p99, client round trip) of `ember lsp` for a 10,000-line file with a
# 1M-sample profile loaded. Target: p99 < 5 ms. Uses the release binary (EMBER_BIN to override).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${EMBER_BIN:-}" ] || { cargo build --release -q -p ember; export EMBER_BIN="$PWD/target/release/ember"; }
PY=.tools/venv/bin/python
[ -x "$PY" ] || PY=python3
exec "$PY" bench/lsp_bench.py
