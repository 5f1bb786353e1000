#!/usr/bin/env bash
# Benchmark of iwp-synth: polygons/s on 1 and 2 threads, against ogr2ogr rewriting the same
# shapefiles (GDAL's own shapefile writer on the same data) in the same run; peak RSS.
# Usage: bench/synth.sh [POLYGONS] [FILES]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-1000000}
files=${2:-50}

echo "iwp-synth: $polygons polygons in $files files"
for t in 1 2; do
  read -r secs rss < <(timed "$bin/iwp-synth" --out "$work/t$t" --polygons "$polygons" --files "$files" --threads "$t" --force -q)
  echo "threads=$t seconds=$secs polygons_per_s=$(rate "$polygons" "$secs") peak_rss_mb=$((rss / 1024))"
  eval "secs_$t=$secs"
done
mkdir -p "$work/ogr"
start=$(date +%s.%N)
find "$work/t1/input" -name '*.shp' | while read -r f; do
  ogr2ogr -f "ESRI Shapefile" "$work/ogr/$(basename "$f")" "$f"
done
end=$(date +%s.%N)
ogr=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "ogr2ogr (1 thread, same data) seconds=$ogr polygons_per_s=$(rate "$polygons" "$ogr")"
awk -v o="$ogr" -v a="$secs_1" -v b="$secs_2" 'BEGIN { printf "speed iwp-synth(1 thread) / ogr2ogr = %.2fx; 1 -> 2 threads = %.2fx\n", o / a, a / b }'
