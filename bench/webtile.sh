#!/usr/bin/env bash
# Benchmark of iwp-webtile: generated IWP-like data staged at z 15 and rasterized at z 11..15
# (count + coverage, 256x256), then one PNG (indexed, RGBA above 256 colours) per GeoTIFF per
# statistic on 1 and 2 threads.
# Reports ms per PNG, 1 -> 2 thread scaling and peak RSS.
# Usage: bench/webtile.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}

sample 11 15
"$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" -q | "$bin/iwp-raster" -c "$cfg" -q > "$work/rasters.ndjson"
echo "iwp-webtile: $(wc -l < "$work/rasters.ndjson") GeoTIFFs (z 11..15, 2 statistics, 256x256) from $polygons polygons"
for t in 1 2; do
  rm -rf "$work/data/web_tiles"
  read -r secs rss < <(timed_out "$work/web.ndjson" "$bin/iwp-webtile" -c "$cfg" --input "$work/rasters.ndjson" --threads "$t" -q)
  pngs=$(wc -l < "$work/web.ndjson")
  echo "threads=$t pngs=$pngs seconds=$secs ms_per_png=$(awk -v s="$secs" -v n="$pngs" 'BEGIN { printf "%.2f", 1000 * s / n }') peak_rss_mb=$((rss / 1024))"
  eval "secs_$t=$secs"
done
awk -v a="$secs_1" -v b="$secs_2" 'BEGIN { printf "1 -> 2 threads = %.2fx\n", a / b }'
