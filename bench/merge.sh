#!/usr/bin/env bash
# Benchmark of iwp-merge: generated data staged at z-max 17 into 4 "node" folders (file k into
# node k mod 4, so neighbouring images share tiles across nodes; every even file also into node
# k+1 mod 4, as when a node's share is staged again elsewhere after a timeout, so about half the
# tiles are shared), merged into one tree on 1 and 2 threads, against `cp -r` of the same
# folders in the same run. Reports tiles/s and peak RSS.
# Usage: bench/merge.sh [POLYGONS] [FILES]      (defaults: 300000 16)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-300000}
files=${2:-16}

sample 13 17
for k in 0 1 2 3; do
  awk -v k="$k" '(NR - 1) % 4 == k || ((NR - 1) % 2 == 0 && NR % 4 == k)' "$work/files.ndjson" |
    "$bin/iwp-stage" -c "$cfg" --out "$work/node$k" -q >/dev/null
done
total=$(find "$work"/node? -name '*.gpkg' | wc -l)
distinct=$(cd "$work" && find node? -name '*.gpkg' | sed 's|^node[0-9]/||' | sort -u | wc -l)
echo "iwp-merge: $total staged tiles in 4 node folders, $distinct distinct ($((total - distinct)) copies of shared tiles)"
for t in 1 2; do
  rm -rf "$work/merged"
  read -r secs rss < <(timed_out "$work/merged.ndjson" "$bin/iwp-merge" -c "$cfg" --from "$work"/node? --into "$work/merged" --threads "$t" -q)
  combined=$(grep -c '"combined"' "$work/merged.ndjson" || true)
  echo "threads=$t tiles=$distinct combined=$combined seconds=$secs tiles_per_s=$(rate "$distinct" "$secs") peak_rss_mb=$((rss / 1024))"
  eval "secs_$t=$secs"
done
rm -rf "$work/cp"
mkdir -p "$work/cp"
start=$(date +%s.%N)
cp -r "$work"/node? "$work/cp/"
end=$(date +%s.%N)
cp_secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "cp -r of the 4 node folders: seconds=$cp_secs files_per_s=$(rate "$total" "$cp_secs")"
awk -v a="$secs_1" -v b="$secs_2" -v c="$cp_secs" 'BEGIN { printf "iwp-merge(1 thread) time / cp -r time = %.2f; 1 -> 2 threads = %.2fx\n", a / c, a / b }'
