#!/usr/bin/env bash
# The main job on the bundled example: set up, record examples/demo.py under Ember, write the
# profile in Ember's format and as an SVG flamegraph, then serve the interactive flamegraph.
#   bash scripts/example.sh            (Ctrl-C stops the server)
#   EMBER_NO_SERVE=1 bash scripts/example.sh   (record and convert only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BIN="${CARGO_TARGET_DIR:-target}/release/ember"
PY=$(bash scripts/pythons.sh | awk '$1=="3.12"{print $2}')
[ -n "$PY" ] || PY=$(bash scripts/pythons.sh | head -n1 | awk '{print $2}')
mkdir -p out
echo "== recording examples/demo.py with $PY"
"$BIN" record --idle -o out/demo.ember -- "$PY" examples/demo.py 5
"$BIN" convert out/demo.ember -o out/demo.svg
"$BIN" convert out/demo.ember -o out/demo.txt
echo "== wrote out/demo.ember, out/demo.svg (open it in a browser) and out/demo.txt (collapsed stacks)"
if [ -z "${EMBER_NO_SERVE:-}" ]; then
  echo "== serving the interactive flamegraph (Ctrl-C to stop)"
  exec "$BIN" serve out/demo.ember
fi
