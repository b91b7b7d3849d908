#!/usr/bin/env bash
# Profile model and file figures against the budgets of issue 3:
#   file ≤ 8 bytes/sample (1M samples, 100k distinct stacks, timestamps), loaded in < 1 s;
#   10M samples held in < 200 MB; the call tree of 1M samples built in < 200 ms.
# Synthetic data (adapter/src/profile/synth.rs): 4 threads sampled together at 1 kHz with timer
# jitter, stacks up to 500 deep sharing prefixes, hot stacks, running/GIL flags.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p ember --example profile_bench
BIN=target/release/examples/profile_bench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

get() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v+0 <= lim+0) ? "ok" : "OVER BUDGET" }'; }

echo "== file size: 1M samples, 100k distinct stacks"
W=$($BIN write 1000000 "$TMP/p1m.ember")
echo "$W"
BPS=$(get ember_bytes_per_sample "$W")
echo "ember .ember file:     $BPS bytes/sample (budget ≤ 8: $(verdict "$BPS" 8))"
echo "collapsed text:        $(get collapsed_bytes_per_sample "$W") bytes/sample (same data; py-spy's raw format is the same text)"
echo "speedscope JSON:       $(get speedscope_bytes_per_sample "$W") bytes/sample (same data, Ember's writer; py-spy's measured 62 on the issue's profile)"

echo
echo "== load time (fresh process)"
L=$($BIN load "$TMP/p1m.ember")
echo "$L"
echo "load 1M samples:       $(get load_s "$L") s (budget < 1 s: $(verdict "$(get load_s "$L")" 1))"

echo
echo "== memory: 10M samples"
H=$($BIN hold 10000000)
echo "held (built in memory): $(get peak_rss_mb "$H") MB peak RSS (budget < 200 MB: $(verdict "$(get peak_rss_mb "$H")" 200))"
$BIN write 10000000 "$TMP/p10m.ember" --no-others >/dev/null
L10=$($BIN load "$TMP/p10m.ember")
echo "loaded from a file:     $(get peak_rss_mb "$L10") MB peak RSS, $(get load_s "$L10") s ($(du -h "$TMP/p10m.ember" | cut -f1) file)"

echo
echo "== derived views: 1M samples"
T=$($BIN tree 1000000)
echo "$T"
echo "call tree 1M samples:  $(get call_tree_ms "$T") ms (budget < 200 ms: $(verdict "$(get call_tree_ms "$T")" 200))"
