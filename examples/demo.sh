#!/usr/bin/env bash
# The demo: generate IWP-like sample data and run what exists of the pipeline on it
# (synth -> stage -> raster -> webtile).
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
echo "== iwp-stage: every file into z-max tiles (footprint dedup on)"
cfg="$out/sample/config.json"
"$bin/iwp-stage" -c "$cfg" --list > "$out/files.ndjson"
"$bin/iwp-stage" -c "$cfg" --input "$out/files.ndjson" > "$out/staged.ndjson"
echo "$(wc -l < "$out/staged.ndjson") tile writes, $(find "$out/sample/staged" -name '*.gpkg' | wc -l) tiles"

echo "== iwp-raster: count and coverage GeoTIFFs at z-max and every lower level"
"$bin/iwp-raster" -c "$cfg" --input "$out/staged.ndjson" > "$out/rasters.ndjson"
echo "$(wc -l < "$out/rasters.ndjson") GeoTIFFs; the first:"
head -n 1 "$out/rasters.ndjson"
if command -v gdalinfo >/dev/null; then
  tif=$(head -n 1 "$out/rasters.ndjson" | sed 's/.*"path":"\([^"]*\)".*/\1/')
  gdalinfo -stats "$tif" | grep -E '^(Size is|Band|  Description)|STATISTICS_(MAXIMUM|MEAN)'
fi

echo "== iwp-webtile: coloured PNGs of every GeoTIFF, WMTS capabilities, a preview of the lowest level"
zmin=$(sed -n 's/.*"z":\([0-9]*\).*/\1/p' "$out/rasters.ndjson" | sort -n | head -n 1)
"$bin/iwp-webtile" -c "$cfg" --input "$out/rasters.ndjson" --wmts "$out/sample/WMTSCapabilities.xml" --preview "$zmin" > "$out/web.ndjson"
echo "$(wc -l < "$out/web.ndjson") PNGs; previews: $(ls "$out"/sample/web_tiles/*/preview-z*.png | tr '\n' ' ')"

echo
echo "Outputs:"
echo "  $out/nodes.ndjson, $out/nodes_array.txt   node lines and the plain node list"
echo "  $out/sample/input/                       $(find "$out/sample/input" -name '*.shp' | wc -l) shapefiles"
echo "  $out/sample/footprints/                  their footprints"
echo "  $out/sample/config.json                  the PDG config for the sample"
echo "  $out/sample-files.ndjson                 one job line per input file"
echo "  $out/sample/staged/, $out/staged.ndjson    staged z-max tiles and their lines"
echo "  $out/sample/geotiff/, $out/rasters.ndjson  GeoTIFFs at every level and their lines"
echo "  $out/sample/web_tiles/, $out/web.ndjson  PNG web tiles (STAT/TMS/Z/X/Y.png), previews, lines"
echo "  $out/sample/WMTSCapabilities.xml          WMTS capabilities for the web tiles"
echo "  $out/sample/staging_summary.csv, rasters_summary.csv   the reference's summaries"
