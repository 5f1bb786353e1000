#!/usr/bin/env bash
# Benchmark of iwp-raster's z-max GeoTIFFs and iwp-webtile's PNGs beside the tools a user would
# pick instead, on the same tiles, one thread: exactextract (PyPI; exact coverage fractions, the
# same figure as ours), GDAL's rasterize (pixel centres only) and gdaldem color-relief (PNG).
# Ours are timed as whole runs (process start, reading staged tiles, writing files) and, for
# the rasters, in memory as the peers are (bench's coverage_timing example: each staged tile
# opened untimed, then its rows read and the bands computed, nothing written). The peers run in
# one Python process per tool (bench/peers.py), reading the staged tiles; GDAL's rasterize is
# timed in memory and also with its band written as a GeoTIFF, gdaldem writes its PNGs.
# Every figure is the fastest of $REPEAT (default 3) runs.
# Needs Debian's python3-gdal (apt-get install python3-gdal), PyPI for exactextract 0.3.0
# (installed into a virtual environment under the benchmark's temporary folder) and cargo (the
# timing example is built from this checkout).
# Usage: bench/peers.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}

/usr/bin/python3 -c 'from osgeo import gdal' 2>/dev/null || { echo "bench/peers.sh: needs python3-gdal (apt-get install python3-gdal)" >&2; exit 3; }
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install -q exactextract==0.3.0
(cd "$here" && cargo build --release -q -p iwp-rasters --example coverage_timing)
timing=$here/target/release/examples/coverage_timing

per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", 1000 * s / n }'; }
# Runs CMD --set KEY=DIR $repeat times, each into a new fresh_dir NAME (the last one kept) with
# its stdout in LINES; prints "fastest slowest peak_rss_kb": fastest_run NAME INODES LINES KEY CMD...
fastest_run() {
  local name=$1 inodes=$2 lines=$3 key=$4 dir
  shift 4
  rm -f "$work/$name.runs"
  for _ in $(seq "$repeat"); do
    drop_dir "$name"
    dir=$(fresh_dir "$name" 2000 "$inodes")
    timed_out "$lines" "$@" --set "$key=$dir" >>"$work/$name.runs"
  done
  read -r lo hi < <(cut -d' ' -f1 "$work/$name.runs" | min_max)
  echo "$lo $hi $(cut -d' ' -f2 "$work/$name.runs" | sort -n | tail -1)"
}

staged_sample 11 15
read -r secs slowest rss < <(fastest_run geotiff 20000 "$work/z15.ndjson" dir_geotiff \
  "$bin/iwp-raster" -c "$cfg" --z 15 --input "$work/staged.ndjson" --threads 1 -q)
tiles=$(wc -l <"$work/z15.ndjson")
echo "$tiles z 15 tiles of $polygons generated polygons in $files files, 1 thread, fastest of $repeat runs (slowest)"
echo "iwp-raster (count + exact coverage, GeoTIFFs written): $(per "$secs" "$tiles") ($(per "$slowest" "$tiles")) ms per tile, peak RSS $((rss / 1024)) MB"
for _ in $(seq "$repeat"); do "$timing" "$cfg" "$work/z15.ndjson"; done >"$work/timing.ndjson"
/usr/bin/python3 - "$work/timing.ndjson" <<'PY'
import json, sys
best = min((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["read_and_computed_ms"])
print("iwp-rasters in memory (rows read, count + exact coverage computed, nothing written): "
      "{read_and_computed_ms:.2f} ms per tile (reading {read_ms:.2f}, computing {computed_ms:.2f}; "
      "{with_opening_ms:.2f} with opening each tile)".format(**best))
PY
read -r secs slowest rss < <(fastest_run web 40000 "$work/web.ndjson" dir_web_tiles \
  "$bin/iwp-webtile" -c "$cfg" --input "$work/z15.ndjson" --threads 1 -q)
web=$work/web
pngs=$(wc -l <"$work/web.ndjson")
bytes=$(find "$web" -name '*.png' -path '*/15/*' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "iwp-webtile (GeoTIFFs read, PNGs written): $(per "$secs" "$pngs") ($(per "$slowest" "$pngs")) ms per PNG, $bytes bytes in $pngs PNGs"
"$work/venv/bin/python" "$(dirname "$0")/peers.py" "$cfg" "$work/z15.ndjson" "$work/peers" "$repeat"
