#!/usr/bin/env bash
# Benchmark of the 3D tiles hierarchy step (iwp-3dtiles --tileset) at the pan-Arctic scale: it
# reads only result lines, so LEAVES content lines of z15 tiles (a block of the Arctic, 60-75 N)
# are generated without contents, then the tileset.json tree with its external tilesets is
# written. Reports time, peak RSS, the number of JSON files and the largest (the aim: a few MB
# at most at 5 million leaves). Baseline in the same run: `sort` of the same lines (a plain pass
# over the input that must hold all of it).
# Usage: bench/tileset.sh [LEAVES] [SPLIT_LEVELS]      (defaults: 5000000 5)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
leaves=${1:-5000000}
split=${2:-5}

polygons=10 files=1
sample 11 15
dir=$work/3dtiles
mkdir -p "$dir"
# Tiles of z15 (WorldCRS84Quad: 180/2^15 degrees a side) from x0, y0 in rows of 4,000.
awk -v n="$leaves" -v dir="$dir" 'BEGIN {
  s = 180 / 32768; x0 = 1000; y0 = 2700; w = 4000
  for (i = 0; i < n; i++) {
    x = x0 + i % w; y = y0 + int(i / w)
    west = -180 + x * s; north = 90 - y * s
    printf "{\"tms\":\"WorldCRS84Quad\",\"z\":15,\"x\":%d,\"y\":%d,\"path\":\"%s/WorldCRS84Quad/15/%d/%d.glb\",\"features\":100,\"bytes\":40000,\"region\":[%.9f,%.9f,%.9f,%.9f,0.0,0.0],\"status\":\"ok\"}\n", x, y, dir, x, y, west, north - s, west + s, north
  }
}' > "$work/contents.ndjson"
echo "$leaves content lines: $(( $(stat -c %s "$work/contents.ndjson") / 1048576 )) MB"
read -r secs rss < <(timed_out "$work/tilesets.ndjson" "$bin/iwp-3dtiles" -c "$cfg" --set "dir_3dtiles=$dir" \
  --tileset --split-levels "$split" --input "$work/contents.ndjson" -q)
files=$(wc -l < "$work/tilesets.ndjson")
largest=$(find "$dir" -name '*.json' -printf '%s\n' | sort -n | tail -1)
total=$(find "$dir" -name '*.json' -printf '%s\n' | awk '{ n += $1 } END { print n }')
read -r base _ < <(timed sort -S 50% "$work/contents.ndjson")
echo "iwp-3dtiles --tileset: $secs s, peak_rss_mb=$((rss / 1024)), $files JSON files, $((total / 1048576)) MB in all, largest $((largest / 1024)) KB"
echo "  baseline sort of the same lines: $base s; the hierarchy step takes $(awk -v a="$secs" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x its time"
