#!/usr/bin/env bash
# Benchmark of iwp-stage: generated IWP-like data (EPSG:3413, footprints, dedup on), z-max 15,
# staged on 1 and 2 threads, against ogr2ogr converting the same files to GeoPackage in the
# same run (fastest of REPEAT runs, default 3). Reports polygons/s, the time ratio to ogr2ogr
# (alone, and followed by sync -f of its files: iwp-stage's time includes flushing its tiles to
# disk), 1->2 thread scaling and peak RSS.
# Then one file of half the polygons on 1 and 2 threads, and peak RSS for 25, 100 and 400
# files of 2,000 polygons each (it must stay flat).
# Usage: bench/stage.sh [POLYGONS] [FILES]      (defaults: 1000000 50, as issue 3 asks)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-1000000}
files=${2:-50}

# Stages the job lines of CONFIG on THREADS threads $repeat times, each into a fresh filesystem
# (see fresh_dir: no run pays for an earlier one's deletions) of SIZE_MB; prints "fastest
# slowest peak_rss_kb": stage_runs NAME CONFIG JOBS THREADS SIZE_MB
stage_runs() {
  local name=$1 config=$2 jobs=$3 t=$4 size=$5 out r
  rm -f "$work/$name.runs"
  for r in $(seq "$repeat"); do
    out=$(fresh_dir "$name-$t-$r" "$size" 200000)
    rm -f "$(dirname "$config")/staging_summary.csv"
    timed "$bin/iwp-stage" -c "$config" --input "$jobs" --threads "$t" --out "$out" -q >>"$work/$name.runs"
    drop_dir "$name-$t-$r"
  done
  read -r lo hi < <(cut -d' ' -f1 "$work/$name.runs" | min_max)
  echo "$lo $hi $(cut -d' ' -f2 "$work/$name.runs" | sort -n | tail -1)"
}

sample 11 15
echo "iwp-stage: $polygons polygons in $files files, z-max 15, footprint dedup on; fastest of $repeat runs (slowest)"
for t in 1 2; do
  read -r secs slowest rss < <(stage_runs staged "$cfg" "$work/files.ndjson" "$t" 2048)
  echo "threads=$t seconds=$secs ($slowest) polygons_per_s=$(rate "$polygons" "$secs") peak_rss_mb=$((rss / 1024))"
  eval "secs_$t=$secs"
done
for r in $(seq "$repeat"); do
  out=$(fresh_dir "ogr-$r" 2048 200000)
  start=$(date +%s.%N)
  find "$work/data/input" -name '*.shp' | while read -r f; do
    ogr2ogr -f GPKG "$out/$(basename "$f" .shp).gpkg" "$f"
  done
  end=$(date +%s.%N)
  # Then its files flushed to disk, as iwp-stage flushes its tiles before renaming them.
  sync -f "$out"
  synced=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' >> "$work/ogr-times"
  awk -v a="$start" -v b="$synced" 'BEGIN { printf "%.2f\n", b - a }' >> "$work/ogr-synced-times"
  drop_dir "ogr-$r"
done
read -r ogr ogr_slowest < <(min_max < "$work/ogr-times")
read -r ogr_synced ogr_synced_slowest < <(min_max < "$work/ogr-synced-times")
echo "ogr2ogr to GPKG (1 thread, same files) seconds=$ogr ($ogr_slowest) polygons_per_s=$(rate "$polygons" "$ogr")"
echo "ogr2ogr to GPKG, then sync -f of its files seconds=$ogr_synced ($ogr_synced_slowest)"
awk -v o="$ogr" -v s="$ogr_synced" -v a="$secs_1" -v b="$secs_2" 'BEGIN { printf "iwp-stage(1 thread) time / ogr2ogr time = %.2fx (speed %.2fx), / ogr2ogr and sync = %.2fx; 1 -> 2 threads = %.2fx\n", a / o, o / a, a / s, a / b }'

# One large file (half the polygons): on 2 threads its features are read in ranges that the
# second thread takes over, as when a run's last file is staged while the other threads idle.
big=$((polygons / 2))
rm -rf "$work/big"
"$bin/iwp-synth" --out "$work/big" --polygons "$big" --files 1 --z-range 11 15 -q >/dev/null
"$bin/iwp-stage" -c "$work/big/config.json" --list > "$work/big.ndjson"
for t in 1 2; do
  read -r secs slowest _ < <(stage_runs big "$work/big/config.json" "$work/big.ndjson" "$t" 1024)
  eval "big_$t=$secs"
  echo "one file of $big polygons, threads=$t seconds=$secs ($slowest)"
done
awk -v a="$big_1" -v b="$big_2" 'BEGIN { printf "one file, 1 -> 2 threads = %.2fx\n", a / b }'

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
