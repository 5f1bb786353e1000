#!/usr/bin/env bash
# Benchmark of iwp-webtile --format pmtiles (here `both`, to keep the tree between runs): generated data staged and rasterized at z 11..15, web tiles
# rendered, then each layer's PNG tree packed into one PMTiles archive. Reports files and bytes
# (apparent and on disk) of the tree against the archives, and the time to pack against `tar cf`
# of the same tree in the same run (a plain pass over the same files into one file).
# Usage: bench/pmtiles.sh [POLYGONS] [FILES]      (defaults: 200000 10)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-200000}
files=${2:-10}

staged_sample 11 15
"$bin/iwp-raster" -c "$cfg" --input "$work/staged.ndjson" -q > "$work/rasters.ndjson"
"$bin/iwp-webtile" -c "$cfg" --input "$work/rasters.ndjson" -q > /dev/null
web=$work/data/web_tiles
pngs=$(find "$web" -name '*.png' ! -name 'preview-*' | wc -l)
tree_bytes=$(find "$web" -name '*.png' ! -name 'preview-*' -printf '%s\n' | awk '{ n += $1 } END { print n }')
tree_disk=$(du -s --block-size=1 "$web" | cut -f1)
runs=$(for _ in $(seq "$repeat"); do
  rm -f "$web"/*.pmtiles
  timed "$bin/iwp-webtile" -c "$cfg" --input "$work/rasters.ndjson" --no-tiles --format both -q
done)
read -r secs secs_max < <(awk '{ print $1 }' <<<"$runs" | min_max)
archives=$(find "$web" -maxdepth 1 -name '*.pmtiles' | wc -l)
archive_bytes=$(find "$web" -maxdepth 1 -name '*.pmtiles' -printf '%s\n' | awk '{ n += $1 } END { print n }')
archive_disk=$(find "$web" -maxdepth 1 -name '*.pmtiles' -exec du --block-size=1 {} + | awk '{ n += $1 } END { print n }')
base_runs=$(for _ in $(seq "$repeat"); do
  timed tar cf "$work/tree.tar" -C "$web" --exclude='*.pmtiles' --exclude='preview-*' .
done)
read -r base base_max < <(awk '{ print $1 }' <<<"$base_runs" | min_max)
echo "$polygons polygons: web tiles of $(wc -l < "$work/rasters.ndjson") GeoTIFFs"
echo "  tree: $pngs PNG files, $tree_bytes bytes ($tree_disk on disk)"
echo "  PMTiles: $archives archives, $archive_bytes bytes ($archive_disk on disk), packed in $secs s ($secs_max)"
echo "  baseline tar cf of the tree: $base s ($base_max); packing takes $(awk -v a="$secs" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x its time"
