#!/usr/bin/env bash
# Benchmark of iwp-extract: generated data staged and rasterized at z 13..15, then areas of a
# sixteenth, a quarter and all of the data's extent extracted (a COG of z15 and a GeoPackage of the
# polygons). Reports seconds, peak RSS (flat whatever the area's size: GDAL streams both files),
# pixels, polygons and bytes; and the baseline the GDAL tools make of the whole extent in the same
# run: gdalbuildvrt + gdalwarp -cutline -of COG, and ogr2ogr -append of each staged tile with the
# same spatial and attribute filters.
# Usage: bench/extract.sh [POLYGONS] [FILES]      (defaults: 400000 20)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-400000}
files=${2:-20}

staged_sample 13 15
"$bin/iwp-raster" -c "$cfg" --input "$work/staged.ndjson" -q > "$work/rasters.ndjson"
# The z15 tiles' extent: west south east north.
read -r w s e n < <(grep '"z":15' "$work/rasters.ndjson" | sed 's/.*"x":\([0-9]*\),"y":\([0-9]*\).*/\1 \2/' |
  awk -v span=$((1)) 'BEGIN { d = 180 / 32768 } { l = -180 + $1 * d; t = 90 - $2 * d
    if (NR == 1 || l < W) W = l; if (NR == 1 || l + d > E) E = l + d; if (NR == 1 || t > N) N = t; if (NR == 1 || t - d < S) S = t - d }
    END { printf "%.9f %.9f %.9f %.9f\n", W, S, E, N }')
echo "$polygons polygons in $files files; z15 extent $w $s $e $n"
for part in 16 4 1; do
  box=$(awk -v w="$w" -v s="$s" -v e="$e" -v n="$n" -v p="$part" 'BEGIN { f = 1 / sqrt(p); cx = (w + e) / 2; cy = (s + n) / 2
    hw = (e - w) * f / 2; hh = (n - s) * f / 2; printf "%.9f,%.9f,%.9f,%.9f", cx - hw, cy - hh, cx + hw, cy + hh }')
  runs=$(for _ in $(seq "$repeat"); do
    rm -rf "$work/data/extracts"
    timed_out "$work/extract.ndjson" "$bin/iwp-extract" -c "$cfg" --bbox="$box" --name "part$part" -q
  done)
  read -r secs secs_max < <(awk '{ print $1 }' <<<"$runs" | min_max)
  rss=$(awk '{ print $2 }' <<<"$runs" | sort -n | tail -1)
  line=$(cat "$work/extract.ndjson")
  get() { sed "s/.*\"$1\":\\([^,}]*\\).*/\\1/" <<<"$line"; }
  size=$(sed 's/.*"size":\[\([0-9]*\),\([0-9]*\)\].*/\1x\2/' <<<"$line")
  echo "  1/$part of the extent: $secs s ($secs_max), peak RSS $((rss / 1024)) MB; COG ${size} px of $(get tiles) tiles, $(get polygons) polygons, $(get bytes) bytes"
done
# Baseline: the GDAL tools on the whole extent.
tifs=$(grep '"z":15' "$work/rasters.ndjson" | sed 's/.*"path":"\([^"]*\)".*/\1/')
# shellcheck disable=SC2086 # one argument per tile
gdalbuildvrt -q -vrtnodata nan "$work/all.vrt" $tifs
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s]]]}}]}' \
  "$w" "$s" "$e" "$s" "$e" "$n" "$w" "$n" "$w" "$s" >"$work/cut.geojson"
warp=$(for _ in $(seq "$repeat"); do
  rm -f "$work/base.tif"
  timed gdalwarp -q -of COG -cutline "$work/cut.geojson" -dstnodata nan -co COMPRESS=DEFLATE -co PREDICTOR=YES -co BLOCKSIZE=256 "$work/all.vrt" "$work/base.tif"
done)
read -r wsecs wsecs_max < <(awk '{ print $1 }' <<<"$warp" | min_max)
ogr() {
  rm -f "$work/base.gpkg"
  find "$work/data/staged" -name '*.gpkg' | while read -r t; do
    ogr2ogr -append -nln iwp -spat "$w" "$s" "$e" "$n" -where "staging_centroid_within_tile = 1" "$work/base.gpkg" "$t"
  done
}
export -f ogr
export work w s e n
vec=$(for _ in $(seq "$repeat"); do timed bash -c ogr; done)
read -r osecs osecs_max < <(awk '{ print $1 }' <<<"$vec" | min_max)
echo "  baseline, whole extent: gdalwarp -of COG $wsecs s ($wsecs_max), ogr2ogr per staged tile $osecs s ($osecs_max), $(ogrinfo -ro -so "$work/base.gpkg" iwp | sed -n 's/Feature Count: //p') polygons"
echo "  iwp-extract of the whole extent against both: $(awk -v a="$secs" -v b="$wsecs" -v c="$osecs" 'BEGIN { printf "%.2f", a / (b + c) }')x their time"
