#!/usr/bin/env bash
# Benchmark of iwp-stage: generated IWP-like data (EPSG:3413, footprints, dedup on), z-max 15,
# staged on 1 and 2 threads, against ogr2ogr converting the same files to GeoPackage in the
# same run. Reports polygons/s, the ratio to ogr2ogr, 1->2 thread scaling and peak RSS.
# Then peak RSS for 25, 100 and 400 files of 2,000 polygons each (it must stay flat).
# Usage: bench/stage.sh [POLYGONS] [FILES]      (defaults: 1000000 50, as issue 3 asks)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-1000000}
files=${2:-50}

sample 11 15
echo "iwp-stage: $polygons polygons in $files files, z-max 15, footprint dedup on"
for t in 1 2; do
  rm -rf "$work/data/staged" "$work/data/staging_summary.csv"
  read -r secs rss < <(timed "$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" --threads "$t" -q)
  echo "threads=$t seconds=$secs polygons_per_s=$(rate "$polygons" "$secs") peak_rss_mb=$((rss / 1024))"
  eval "secs_$t=$secs"
done
mkdir -p "$work/ogr"
start=$(date +%s.%N)
find "$work/data/input" -name '*.shp' | while read -r f; do
  ogr2ogr -f GPKG "$work/ogr/$(basename "$f" .shp).gpkg" "$f"
done
end=$(date +%s.%N)
ogr=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "ogr2ogr to GPKG (1 thread, same files) seconds=$ogr polygons_per_s=$(rate "$polygons" "$ogr")"
awk -v o="$ogr" -v a="$secs_1" -v b="$secs_2" 'BEGIN { printf "iwp-stage(1 thread) speed / ogr2ogr = %.2fx; 1 -> 2 threads = %.2fx\n", o / a, a / b }'

# Peak RSS must not grow with the number of files: the same 2,000 polygons per file, 4x and 16x
# the files, staged on 2 threads.
echo "peak RSS by number of files (2,000 polygons each, 2 threads):"
for n in 25 100 400; do
  rm -rf "$work/many"
  "$bin/iwp-synth" --out "$work/many" --polygons $((n * 2000)) --files "$n" --z-range 11 15 -q >/dev/null
  "$bin/iwp-stage" -c "$work/many/config.json" --list > "$work/many.ndjson"
  read -r secs rss < <(timed "$bin/iwp-stage" -c "$work/many/config.json" --input "$work/many.ndjson" --threads 2 -q)
  echo "files=$n polygons=$((n * 2000)) seconds=$secs polygons_per_s=$(rate $((n * 2000)) "$secs") peak_rss_mb=$((rss / 1024))"
done
