#!/usr/bin/env bash
# Benchmark of the raster stage's schedules on a 3-node Slurm cluster on this machine
# (tests/slurm/cluster.sh; root, slurmctld and slurmd needed), on the same staged tiles:
#   levels    a step per level: every task waits for a level's last tile before the next level;
#   subtrees  one step: each task builds whole subtrees, a tile above them is built by the task
#             that finishes its last child (iwp-raster --shard auto --claims).
# One task per node, one thread each (RAYON_NUM_THREADS=1), so 3 cores are allocated. Reports the
# stage's wall time (slurm/raster.sbatch's "raster: done in" line), the core-seconds its tiles
# took (the sum of their result lines' secs) and the idle core-seconds: 3 x wall - busy. Both
# schedules must write the same GeoTIFFs (checked with cmp).
# Usage: bench/levels.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
shopt -s nullglob
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}
nodes=3

staged_sample 11 15
cluster=$work/cluster
conf=$("$here/tests/slurm/cluster.sh" start "$cluster" "$nodes")
stop_cluster() { "$here/tests/slurm/cluster.sh" stop "$cluster" || true; cleanup; }
trap stop_cluster EXIT
echo "raster stage of $polygons polygons in $files files (z 15..11) on $nodes Slurm nodes x 1 task x 1 thread"
for schedule in levels subtrees; do
  sed "s|\"dir_geotiff\": *\"[^\"]*\"|\"dir_geotiff\": \"geotiff-$schedule\"|" "$cfg" >"$work/data/config-$schedule.json"
  run=$work/run-$schedule
  mkdir -p "$run"
  SLURM_CONF=$conf IWP_BIN=$bin IWP_RUN=$run IWP_LOCAL=$work/local-$schedule IWP_SLURM_DIR=$here/slurm \
    IWP_RASTER_SCHEDULE=$schedule RAYON_NUM_THREADS=1 \
    sbatch -N "$nodes" --ntasks-per-node 1 -t 30 --wait -o "$run/job.log" \
    "$here/slurm/raster.sbatch" "$work/data/config-$schedule.json" >/dev/null || {
    cat "$run/job.log" >&2
    exit 1
  }
  wall=$(sed -n 's/.*raster: done in \([0-9.]*\) s.*/\1/p' "$run/job.log")
  [ -n "$wall" ] || { cat "$run/job.log"; exit 1; }
  # Every GeoTIFF line once: per task and level (levels), or split by level (subtrees).
  lines=("$run"/raster/z*.node*.ndjson "$run"/raster/z*.all.ndjson)
  busy=$(cat "${lines[@]}" | grep -o '"secs":[0-9.]*' | cut -d: -f2 | awk '{ s += $1 } END { printf "%.2f", s }')
  tifs=$(find "$work/data/geotiff-$schedule" -name '*.tif' | wc -l)
  awk -v s="$schedule" -v w="$wall" -v b="$busy" -v n="$nodes" -v t="$tifs" 'BEGIN {
    printf "%-8s GeoTIFFs=%d wall_s=%.2f busy_core_s=%.2f idle_core_s=%.2f (%.0f%% of %d x wall)\n", s, t, w, b, n * w - b, 100 * (n * w - b) / (n * w), n }'
done
(cd "$work/data/geotiff-levels" && find . -name '*.tif' | sort) >"$work/levels.list"
(cd "$work/data/geotiff-subtrees" && find . -name '*.tif' | sort) >"$work/subtrees.list"
cmp -s "$work/levels.list" "$work/subtrees.list" || { echo "the schedules wrote different tiles" >&2; exit 1; }
while read -r f; do
  cmp -s "$work/data/geotiff-levels/$f" "$work/data/geotiff-subtrees/$f" || { echo "$f differs" >&2; exit 1; }
done <"$work/levels.list"
echo "both schedules wrote the same $(wc -l <"$work/levels.list") GeoTIFFs, byte for byte"
