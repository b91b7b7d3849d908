#!/usr/bin/env bash
# The flamegraph page at scale, measured in headless Chromium: first paint, zoom / hover /
# search per action, page memory. Targets (issue 3): first paint < 1 s, < 16 ms per
# interaction, < 200 MB for 1M samples / 100k stacks up to 500 deep; a 5,000-deep recursion
# stays responsive.  Usage: bench/web.sh [SAMPLES STACKS DEPTH]   (default 1000000 100000 500)
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${1:-1000000}; STACKS=${2:-100000}; DEPTH=${3:-500}
log=$(mktemp)
cargo build --release -q -p ember --bin ember --example web_fixture 2>"$log" || { cat "$log"; exit 1; }
rm -f "$log"
[ -d tests/node_modules/playwright-core ] || (cd tests && npm install --silent)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mapfile -t files < <(target/release/examples/web_fixture --write "$dir" "big:$SAMPLES:$STACKS:$DEPTH" deep:5000)
echo "profile files: $(du -h "${files[0]}" | cut -f1) for $SAMPLES samples"
node bench/web_bench.mjs target/release/ember "${files[0]}" "big ($SAMPLES samples / $STACKS stacks / $DEPTH deep)"
node bench/web_bench.mjs target/release/ember "${files[1]}" "deep recursion (5,000 frames)"
