#!/usr/bin/env bash
# Benchmark of iwp-raster: generated IWP-like data (dense polygon networks, EPSG:3413) staged at
# z-max 15, then count + coverage GeoTIFFs (256 x 256) at z 15 and every level down to 11, on 1 and
# 2 threads. Reports ms per z-max tile, ms per lower-level tile, 1 -> 2 thread scaling, peak RSS,
# and bytes per tile against the same tiles uncompressed (the reference writes them so).
# Every run writes its GeoTIFFs into a freshly made filesystem (fresh_dir in lib.sh): deleting
# the last run's files and creating as many again within seconds slows file creation on this
# VM's journal-less ext4 by ~7% of a z-max step, which no real run pays.
# Usage: bench/raster.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}

staged_sample 11 15
echo "iwp-raster: $polygons polygons in $files files staged at z 15; count + coverage, 256x256"

# Empties the GeoTIFF folder: a fresh filesystem mounted at data/geotiff, a new summary.
fresh_geotiffs() {
  drop_dir data/geotiff
  rm -f "$work/data/rasters_summary.csv"
  fresh_dir data/geotiff 2000 20000 >/dev/null
}

# Runs every level as its own step (as a cluster does); prints "zmax_secs zmax_tiles lower_secs lower_tiles max_rss_kb".
levels() {
  local threads=$1 compression=$2 rss=0 secs tiles lower_secs=0 lower_tiles=0 input="$work/staged.ndjson"
  fresh_geotiffs
  for z in 15 14 13 12 11; do
    read -r secs kb < <(timed_out "$work/z$z.ndjson" "$bin/iwp-raster" -c "$cfg" --z "$z" --input "$input" --threads "$threads" --compression "$compression" -q)
    tiles=$(wc -l < "$work/z$z.ndjson")
    ((kb > rss)) && rss=$kb
    if [ "$z" = 15 ]; then zmax_secs=$secs; zmax_tiles=$tiles; else
      lower_secs=$(awk -v a="$lower_secs" -v b="$secs" 'BEGIN { print a + b }'); lower_tiles=$((lower_tiles + tiles)); fi
    input="$work/z$z.ndjson"
  done
  echo "$zmax_secs $zmax_tiles $lower_secs $lower_tiles $rss"
}

# levels, $repeat times: prints the fastest z-max and lower-level times (and their slowest), tiles, peak RSS.
best_levels() {
  local runs
  runs=$(for _ in $(seq "$repeat"); do levels "$@"; done)
  read -r zs zs_max < <(awk '{ print $1 }' <<<"$runs" | min_max)
  read -r ls ls_max < <(awk '{ print $3 }' <<<"$runs" | min_max)
  read -r zt lt < <(head -1 <<<"$runs" | awk '{ print $2, $4 }')
  rss=$(awk '$5 > m { m = $5 } END { print m }' <<<"$runs")
  echo "$zs $zt $ls $lt $rss $zs_max $ls_max"
}

ms() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", 1000 * s / n }'; }
echo "each figure: fastest of $repeat runs (slowest in brackets)"
for t in 1 2; do
  read -r zs zt ls lt rss zs_max ls_max < <(best_levels "$t" zstd)
  echo "threads=$t z15: $zt tiles $(ms "$zs" "$zt") ms/tile ($(ms "$zs_max" "$zt")); z14..11: $lt tiles $(ms "$ls" "$lt") ms/tile ($(ms "$ls_max" "$lt")); peak_rss_mb=$((rss / 1024))"
  eval "zs_$t=$zs ls_$t=$ls"
  bytes_zstd=$(du -sb "$work/data/geotiff" | cut -f1)
done
awk -v a="$zs_1" -v b="$zs_2" -v c="$ls_1" -v d="$ls_2" 'BEGIN { printf "1 -> 2 threads: z-max %.2fx, lower levels %.2fx\n", a / b, c / d }'
# One whole run (no --z): each parent from its children in memory. Lower-level cost per tile =
# (whole run - a whole run of z-max alone, same thread count) / lower tiles.
# whole THREADS: prints "z15_alone_secs whole_secs peak_rss_kb" for one pair of runs.
whole() {
  local zonly secs rss
  fresh_geotiffs
  read -r zonly rss < <(timed "$bin/iwp-raster" -c "$cfg" --set 'z_range=[15,15]' --input "$work/staged.ndjson" --threads "$1" -q)
  fresh_geotiffs
  read -r secs rss < <(timed_out "$work/whole.ndjson" "$bin/iwp-raster" -c "$cfg" --input "$work/staged.ndjson" --threads "$1" -q)
  echo "$zonly $secs $rss"
}
for t in 1 2; do
  runs=$(for _ in $(seq "$repeat"); do whole "$t"; done)
  read -r zonly _ < <(awk '{ print $1 }' <<<"$runs" | min_max)
  read -r secs secs_max < <(awk '{ print $2 }' <<<"$runs" | min_max)
  rss=$(awk '$3 > m { m = $3 } END { print m }' <<<"$runs")
  echo "whole run threads=$t: $(wc -l < "$work/whole.ndjson") GeoTIFFs in $secs s ($secs_max) (z15 alone $zonly s): z15 $(ms "$zonly" "$zt") ms/tile, lower levels $(awk -v w="$secs" -v z="$zonly" -v n="$lt" 'BEGIN { printf "%.2f", 1000 * (w - z) / n }') ms/tile; peak_rss_mb=$((rss / 1024))"
  eval "whole_$t=$secs"
done
awk -v a="$whole_1" -v b="$whole_2" 'BEGIN { printf "whole run 1 -> 2 threads: %.2fx\n", a / b }'
read -r zs zt ls lt rss _ _ < <(best_levels 1 none)
bytes_none=$(du -sb "$work/data/geotiff" | cut -f1)
echo "uncompressed (1 thread): z15 $(ms "$zs" "$zt") ms/tile, lower $(ms "$ls" "$lt") ms/tile"
awk -v a="$bytes_zstd" -v b="$bytes_none" -v n="$((zt + lt))" 'BEGIN { printf "bytes per tile: zstd %d, uncompressed %d (%.2f)\n", a / n, b / n, a / b }'
