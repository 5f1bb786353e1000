#!/usr/bin/env bash
# Benchmark of iwp-3dtiles: generated IWP-like data staged at z-max 15, then one GLB content per
# staged tile, on 1 and 2 threads, at two input sizes. Baseline in the same run: ogr2ogr writing
# the same staged tiles' rows (all columns) as GeoJSON lines, one process per tile: a plain
# read-and-write of every polygon. Reports polygons per second per thread, 1 -> 2 thread scaling, the ratio to the
# baseline, bytes per polygon of the contents, and peak RSS at each size (flat when it does not
# grow with the input).
# Usage: bench/tiles3d.sh [POLYGONS] [FILES]      (defaults: 200000 10; the second size is 4x)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
base_polygons=${1:-200000}
files=${2:-10}

# One size: stage, then time the contents; prints a report line.
size() {
  polygons=$1
  rm -rf "$work/data"
  staged_sample 11 15
  "$bin/iwp-3dtiles" -c "$cfg" --list > "$work/tiles.ndjson"
  local tiles features
  tiles=$(wc -l < "$work/tiles.ndjson")
  for t in 1 2; do
    local runs
    runs=$(for _ in $(seq "$repeat"); do
      rm -rf "$work/data/3dtiles"
      timed_out "$work/contents.ndjson" "$bin/iwp-3dtiles" -c "$cfg" --input "$work/tiles.ndjson" --threads "$t" --colour-range 0 200 -q
    done)
    read -r secs secs_max < <(awk '{ print $1 }' <<<"$runs" | min_max)
    rss=$(awk '$2 > m { m = $2 } END { print m }' <<<"$runs")
    eval "secs_$t=$secs max_$t=$secs_max rss_$t=$rss"
  done
  features=$(awk -F'"features":' 'NF > 1 { split($2, a, ","); n += a[1] } END { print n }' "$work/contents.ndjson")
  bytes=$(awk -F'"bytes":' 'NF > 1 { split($2, a, ","); n += a[1] } END { print n }' "$work/contents.ndjson")
  # Baseline: every staged tile's rows as GeoJSON lines with ogr2ogr, one process per tile.
  local base_runs
  base_runs=$(for _ in $(seq "$repeat"); do
    /usr/bin/time -f '%e %M' -o "$work/time" bash -c '
      while read -r f; do ogr2ogr -f GeoJSONSeq /vsistdout/ "$f"; done > "$0"' "$work/all.geojsons" \
      < <(awk -F'"path":"' '{ split($2, a, "\""); print a[1] }' "$work/tiles.ndjson") 2>/dev/null
    cat "$work/time"
  done)
  read -r base base_max < <(awk '{ print $1 }' <<<"$base_runs" | min_max)
  echo "$polygons polygons in $tiles staged tiles: $features features in contents, $((bytes / features)) bytes/polygon"
  echo "  threads=1: $secs_1 s ($max_1), $(rate "$features" "$secs_1") polygons/s, peak_rss_mb=$((rss_1 / 1024))"
  echo "  threads=2: $secs_2 s ($max_2), $(rate "$features" "$secs_2") polygons/s ($(awk -v a="$secs_1" -v b="$secs_2" 'BEGIN { printf "%.2f", a / b }')x), peak_rss_mb=$((rss_2 / 1024))"
  echo "  baseline ogr2ogr to GeoJSON lines: $base s ($base_max); iwp-3dtiles on 1 thread is $(awk -v a="$base" -v b="$secs_1" 'BEGIN { printf "%.2f", a / b }')x its speed"
}

echo "iwp-3dtiles: each time the fastest of $repeat runs (slowest in brackets)"
size "$base_polygons"
size $((base_polygons * 4))
