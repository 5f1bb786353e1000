#!/usr/bin/env bash
# The demo: generate IWP-like sample data and run the whole pipeline on it with
# examples/run-local.sh (stage -> raster -> webtile through pipes); ends with the preview images.
# Usage: examples/demo.sh [OUT_DIR]   (binaries from target/release, built by `make demo`)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-demo-out}
bin=${IWP_BIN:-$here/target/release}
polygons=${DEMO_POLYGONS:-200000}
files=${DEMO_FILES:-8}

mkdir -p "$out"
echo "== iwp-nodes: the nodes of an allocation (here a sample hostlist)"
"$bin/iwp-nodes" 'gpub[059-061,070]' --nodes-file "$out/nodes_array.txt" | tee "$out/nodes.ndjson"

echo "== iwp-synth: $polygons IWP-like polygons in $files shapefiles (EPSG:3413) with footprints"
"$bin/iwp-synth" --out "$out/sample" --polygons "$polygons" --files "$files" --seed 1 --force > "$out/sample-files.ndjson"
first=$(head -n 1 "$out/sample-files.ndjson" | sed 's/.*"path":"\([^"]*\)".*/\1/')
if command -v ogrinfo >/dev/null; then
  echo "-- ogrinfo of the first file:"
  ogrinfo -so -al "$first" | grep -E '^(Layer name|Geometry|Feature Count|Extent)|^    ID\["EPSG"|: (String|Real)'
fi

echo
echo "== examples/run-local.sh: stage -> raster -> webtile through pipes (footprint dedup on)"
cfg="$out/sample/config.json"
IWP_BIN=$bin bash "$here/examples/run-local.sh" "$cfg" "$out/run" >"$out/previews.txt"
echo "$(grep -c . "$out/run/stage.ndjson") tile writes, $(find "$out/sample/staged" -name '*.gpkg' | wc -l) tiles;" \
  "$(grep -c . "$out/run/raster.ndjson") GeoTIFFs; $(grep -c . "$out/run/webtile.ndjson") PNGs"
if command -v gdalinfo >/dev/null; then
  tif=$(head -n 1 "$out/run/raster.ndjson" | sed 's/.*"path":"\([^"]*\)".*/\1/')
  echo "-- gdalinfo -stats of the first GeoTIFF:"
  gdalinfo -stats "$tif" | grep -E '^(Size is|Band|  Description)|STATISTICS_(MAXIMUM|MEAN)'
fi
echo
echo "Outputs:"
echo "  $out/nodes.ndjson, $out/nodes_array.txt   node lines and the plain node list"
echo "  $out/sample/input/                       $(find "$out/sample/input" -name '*.shp' | wc -l) shapefiles"
echo "  $out/sample/footprints/                  their footprints"
echo "  $out/sample/config.json                  the PDG config for the sample"
echo "  $out/run/files.ndjson                   one job line per input file"
echo "  $out/sample/staged/, $out/run/stage.ndjson     staged z-max tiles and their lines"
echo "  $out/sample/geotiff/, $out/run/raster.ndjson   GeoTIFFs at every level and their lines"
echo "  $out/sample/web_tiles/, $out/run/webtile.ndjson  PNG web tiles (STAT/TMS/Z/X/Y.png), lines"
echo "  $out/sample/web_tiles/WMTSCapabilities.xml      WMTS capabilities for the web tiles"
echo "  $out/run/summary.ndjson                  iwp-progress's summary of each stage"
echo "  $out/sample/staging_summary.csv, rasters_summary.csv   the reference's summaries"
echo
echo "The preview mosaic of the lowest zoom level (one per statistic):"
cat "$out/previews.txt"
