#!/usr/bin/env bash
# Scale benchmark: FILES generated input files (default 17,000, the 2023 production run's count),
# one footprint each, at the real density (about 223 polygons per z-max tile: iwp-synth
# --spacing 21), footprint dedup on, z 11..15. Reports, each from a command run here:
#   - the footprint index: build time on 1 thread (fastest/slowest of REPEAT) and its size;
#   - footprint work per task: staging one file with the 17,000-footprint index against staging
#     it with an index of its own footprint only (median of RUNS process runs each, the ratio);
#   - staging every file (1 process, 2 threads): time, files/s, polygons/s, peak RSS;
#   - rasters (every level) and web tiles: time and peak RSS;
#   - files and bytes written per level and per million polygons;
#   - iwp-progress at 1,000,000 jobs and 2,000,000 result lines (bench/progress.sh);
#   - a projection to the full dataset (1.2 billion polygons) on 10 and 20 nodes of 128 cores,
#     I/O included, from the rates measured here and the shared filesystem's rates given as
#     FS_CREATES_PER_S (file creations per second over the whole filesystem, default 20000) and
#     FS_MB_PER_S (write bandwidth, default 5000): assumptions, not measurements; set them to
#     your filesystem's figures.
# Usage: bench/scale.sh [FILES] [POLYGONS]      (defaults: 17000 1000000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
files=${1:-17000}
polygons=${2:-1000000}
runs=${RUNS:-9}
fs_creates=${FS_CREATES_PER_S:-20000}
fs_mbps=${FS_MB_PER_S:-5000}

# Median of numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Files and bytes under a folder, optionally of one extension: count_bytes DIR [EXT]
count_bytes() { find "$1" -type f ${2:+-name "*.$2"} -printf '%s\n' 2>/dev/null | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

echo "== scale: $polygons polygons in $files files (one footprint each), --spacing 21, z 11..15, dedup on"
t0=$(date +%s.%N)
"$bin/iwp-synth" --out "$work/data" --polygons "$polygons" --files "$files" --spacing 21 --z-range 11 15 -q >/dev/null
cfg=$work/data/config.json
echo "generated in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $(count_bytes "$work/data/input" shp | cut -d' ' -f1) shapefiles, $(find "$work/data/footprints" -type f | wc -l) footprint files"

# The footprint index, built anew each time on one thread.
index=$("$bin/iwp-stage" -c "$cfg" --get footprint_index)
for r in $(seq "$repeat"); do
  rm -f "$index"
  timed "$bin/iwp-stage" -c "$cfg" --index-footprints --threads 1 -q
done >"$work/index-times"
read -r lo hi < <(cut -d' ' -f1 "$work/index-times" | min_max)
rss=$(cut -d' ' -f2 "$work/index-times" | sort -n | tail -1)
echo "footprint index of $files footprints, 1 thread: ${lo} s (slowest ${hi} s), peak RSS $((rss / 1024)) MB, $(mb "$(stat -c %s "$index")") MB"
echo "  checked file by file when fresh (--index-footprints again): $(timed "$bin/iwp-stage" -c "$cfg" --index-footprints --threads 1 -q | cut -d' ' -f1) s"

# One file staged by a fresh process: with every footprint indexed, and with only its own.
"$bin/iwp-stage" -c "$cfg" --list >"$work/files.ndjson"
one=$(awk -v n="$((files / 2))" 'NR == n' "$work/files.ndjson")
fp=$(echo "$one" | sed 's/.*"footprint":"\([^"]*\)".*/\1/')
rel=${fp#"$work/data/footprints/"}
mkdir -p "$work/own/$(dirname "$rel")"
cp "$fp" "$work/own/$rel"
own_args=(--set "dir_footprints=$work/own" --set "footprint_index=$work/own-index.sqlite")
"$bin/iwp-stage" -c "$cfg" "${own_args[@]}" --index-footprints -q >/dev/null
echo "$one" >"$work/one.ndjson"
for kind in all own; do
  args=()
  [ "$kind" = own ] && args=("${own_args[@]}")
  for r in $(seq "$runs"); do
    rm -rf "$work/one-$kind"
    t=$(date +%s%N)
    "$bin/iwp-stage" -c "$cfg" "${args[@]}" --input "$work/one.ndjson" --out "$work/one-$kind" --threads 1 -q >/dev/null
    awk -v ns="$(($(date +%s%N) - t))" 'BEGIN { printf "%.4f\n", ns / 1e9 }'
  done >"$work/one-$kind.times"
done
all=$(median <"$work/one-all.times")
own=$(median <"$work/one-own.times")
awk -v a="$all" -v o="$own" -v n="$runs" -v f="$files" 'BEGIN {
  printf "one file staged by a new process (median of %d): with %d footprints indexed %.3f s, with its own only %.3f s: %.2fx\n", n, f, a, o, a / o }'

# The staging rate on large files (per-polygon cost without the per-file cost): 400,000
# polygons in 8 files, 2 threads.
"$bin/iwp-synth" --out "$work/big" --polygons 400000 --files 8 --spacing 21 --z-range 11 15 -q >/dev/null
"$bin/iwp-stage" -c "$work/big/config.json" --index-footprints -q >/dev/null
"$bin/iwp-stage" -c "$work/big/config.json" --list >"$work/big.ndjson"
read -r big_secs _ < <(timed "$bin/iwp-stage" -c "$work/big/config.json" --input "$work/big.ndjson" --threads 2 -q)
echo "staging 400,000 polygons in 8 files, 2 threads: ${big_secs} s, $(rate 400000 "$big_secs") polygons/s"

# Every file staged by one process on 2 threads.
staged=$("$bin/iwp-stage" -c "$cfg" --get dir_staged)
read -r secs rss < <(timed_out "$work/staged.ndjson" "$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" --threads 2 -q)
stage_secs=$secs
read -r tiles _ < <(count_bytes "$staged" gpkg)
echo "staging $files files, 1 process, 2 threads: ${secs} s, $(rate "$files" "$secs") files/s, $(rate "$polygons" "$secs") polygons/s, peak RSS $((rss / 1024)) MB"
echo "  $tiles z15 tiles: $(awk -v p="$polygons" -v t="$tiles" 'BEGIN { printf "%.0f", p / t }') polygons per tile"

read -r secs rss < <(timed_out "$work/rasters.ndjson" "$bin/iwp-raster" -c "$cfg" --input "$work/staged.ndjson" --threads 2 -q)
raster_secs=$secs
echo "rasters z15..z11, 2 threads: ${secs} s, $(wc -l <"$work/rasters.ndjson") GeoTIFFs, peak RSS $((rss / 1024)) MB"
read -r secs rss < <(timed_out "$work/web.ndjson" "$bin/iwp-webtile" -c "$cfg" --input "$work/rasters.ndjson" --threads 2 -q)
web_secs=$secs
echo "web tiles, 2 threads: ${secs} s, $(wc -l <"$work/web.ndjson") PNGs, peak RSS $((rss / 1024)) MB"

# Files and bytes per level.
geotiff=$("$bin/iwp-stage" -c "$cfg" --get dir_geotiff)
web=$("$bin/iwp-stage" -c "$cfg" --get dir_web_tiles)
echo "files and bytes written (per million polygons in brackets):"
total_files=0 total_bytes=0
report() { # report LABEL FILES BYTES
  awk -v l="$1" -v n="$2" -v b="$3" -v p="$polygons" 'BEGIN {
    printf "  %-22s %8d files %9.1f MB   (%9.0f files, %8.1f MB per million polygons)\n", l, n, b / 1048576, n * 1e6 / p, b / 1048576 * 1e6 / p }'
}
read -r n b < <(count_bytes "$staged" gpkg)
report "staged z15" "$n" "$b"
total_files=$((total_files + n)) total_bytes=$((total_bytes + b))
for z in 15 14 13 12 11; do
  read -r n b < <(count_bytes "$geotiff/WorldCRS84Quad/$z" tif)
  report "GeoTIFF z$z" "$n" "$b"
  total_files=$((total_files + n)) total_bytes=$((total_bytes + b))
  read -r n b < <(find "$web" -path "*/WorldCRS84Quad/$z/*" -name '*.png' -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }')
  report "PNG z$z (all stats)" "$n" "$b"
  total_files=$((total_files + n)) total_bytes=$((total_bytes + b))
done
report "all" "$total_files" "$total_bytes"

echo "== iwp-progress at 1,000,000 jobs (bench/progress.sh):"
bash "$here/bench/progress.sh" 1000000 | sed 's/^/  /'

# The full dataset, from the rates measured here and the assumed filesystem rates. Core-seconds
# (2 threads measured, so twice the wall time): staging = a per-file cost (this run's time less
# its polygons at the large-file rate) for 17,039 files + 1.2e9 polygons at the large-file rate;
# rasters and web tiles scale with the polygons (the density per tile is the real one). I/O:
# the inputs read (shapefile bytes); the staged tiles' bytes written twice (shipment archives,
# then unpacked on the shared filesystem, one creation each; the merge links them); GeoTIFFs and
# PNGs written once, a creation each. A stage is bound by the slower of its CPU and its I/O.
read -r _ in_bytes < <(count_bytes "$work/data/input")
read -r staged_files staged_bytes < <(count_bytes "$staged" gpkg)
echo "== projection to 1,200,000,000 polygons in 17,039 files (filesystem: $fs_creates creations/s, $fs_mbps MB/s: assumptions)"
for nodes in 10 20; do
  awk -v p="$polygons" -v nf="$files" -v ss="$stage_secs" -v bs="$big_secs" -v rs="$raster_secs" -v ws="$web_secs" \
    -v f="$total_files" -v b="$total_bytes" -v sf="$staged_files" -v sb="$staged_bytes" -v ib="$in_bytes" \
    -v nodes="$nodes" -v fc="$fs_creates" -v fm="$fs_mbps" 'BEGIN {
    scale = 1.2e9 / p; cores = nodes * 128
    per_poly = bs * 2 / 400000
    per_file = (ss * 2 - p * per_poly) / nf; if (per_file < 0) per_file = 0
    stage_cpu = (17039 * per_file + 1.2e9 * per_poly) / cores
    stage_io = sf * scale / fc + (2 * sb * scale + ib * scale) / 1048576 / fm
    rest_cpu = (rs + ws) * 2 * scale / cores
    rest_io = (f - sf) * scale / fc + (b - sb) * scale / 1048576 / fm
    stage = (stage_cpu > stage_io ? stage_cpu : stage_io); rest = (rest_cpu > rest_io ? rest_cpu : rest_io)
    printf "  %d nodes x 128 cores: staging CPU %.2f h / I/O %.2f h; rasters+web CPU %.2f h / I/O %.2f h; %.1f M files, %.2f TB -> about %.1f h, %.0f node-hours\n",
      nodes, stage_cpu / 3600, stage_io / 3600, rest_cpu / 3600, rest_io / 3600, f * scale / 1e6, b * scale / 1099511627776,
      (stage + rest) / 3600, (stage + rest) / 3600 * nodes }'
done
