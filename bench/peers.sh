#!/usr/bin/env bash
# Benchmark of iwp-raster's z-max GeoTIFFs and iwp-webtile's PNGs beside the tools a user would
# pick instead, on the same tiles, one thread: exactextract (PyPI; exact coverage fractions, the
# same figure as ours), GDAL's rasterize (pixel centres only) and gdaldem color-relief (PNG).
# Ours are timed as whole runs (process start, reading staged tiles, writing files); the peers
# in one Python process per tool, reading the staged tiles but writing nothing except gdaldem's
# PNGs (bench/peers.py), so the comparison favours them.
# Needs Debian's python3-gdal (apt-get install python3-gdal) and PyPI for exactextract 0.3.0,
# installed into a virtual environment under the benchmark's temporary folder.
# Usage: bench/peers.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}

/usr/bin/python3 -c 'from osgeo import gdal' 2>/dev/null || { echo "bench/peers.sh: needs python3-gdal (apt-get install python3-gdal)" >&2; exit 3; }
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install -q exactextract==0.3.0

staged_sample 11 15
out=$(fresh_dir geotiff 2000 20000)
read -r secs rss < <(timed_out "$work/z15.ndjson" "$bin/iwp-raster" -c "$cfg" --set "dir_geotiff=$out" --z 15 \
  --input "$work/staged.ndjson" --threads 1 -q)
tiles=$(wc -l <"$work/z15.ndjson")
echo "$tiles z 15 tiles of $polygons generated polygons in $files files, 1 thread"
echo "iwp-raster (count + exact coverage, GeoTIFFs written): $(awk -v s="$secs" -v n="$tiles" 'BEGIN { printf "%.2f", 1000 * s / n }') ms per tile, peak RSS $((rss / 1024)) MB"
web=$(fresh_dir web 2000 40000)
read -r secs rss < <(timed_out "$work/web.ndjson" "$bin/iwp-webtile" -c "$cfg" --set "dir_web_tiles=$web" \
  --input "$work/z15.ndjson" --threads 1 -q)
pngs=$(wc -l <"$work/web.ndjson")
bytes=$(find "$web" -name '*.png' -path '*/15/*' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "iwp-webtile (GeoTIFFs read, PNGs written): $(awk -v s="$secs" -v n="$pngs" 'BEGIN { printf "%.2f", 1000 * s / n }') ms per PNG, $bytes bytes in $pngs PNGs"
"$work/venv/bin/python" "$(dirname "$0")/peers.py" "$cfg" "$work/z15.ndjson" "$work/peers"
