#!/usr/bin/env bash
# The IWP workflow on one machine with plain pipes, the same stages as slurm/iwp-run.sbatch:
#   iwp-stage (every input file) | iwp-raster (z-max and every lower level) | iwp-webtile,
#   then iwp-mosaic and iwp-catalog
# Result lines of each stage are kept in RUN_DIR (default ./iwp-local), and iwp-progress
# summarizes every stage at the end. Rerunning skips outputs that exist.
# Usage: examples/run-local.sh CONFIG [RUN_DIR]
#   IWP_BIN: folder of the iwp binaries if not on PATH; IWP_PREVIEW_Z: preview level (default z_min)
#   IWP_3DTILES: when set, also 3D tiles of the staged tiles, with these iwp-3dtiles flags
#   (e.g. IWP_3DTILES="--colour-range 0 200"; empty for the defaults), then their tileset.json
#   IWP_COG_BELOW: also COG mosaics of the levels of at most that many pixels
#   IWP_AREAS: a file of area lines to extract (IWP_EXTRACT: more iwp-extract flags)
# Then per-level mosaics and the run's STAC catalog.
set -euo pipefail
config=${1:?usage: examples/run-local.sh CONFIG [RUN_DIR]}
run=${2:-${IWP_RUN:-$PWD/iwp-local}}
if [ -n "${IWP_BIN:-}" ]; then PATH=$IWP_BIN:$PATH; fi
mkdir -p "$run"
get() { iwp-stage -c "$config" --get "$1"; }
web=$(get dir_web_tiles)
preview=${IWP_PREVIEW_Z:-$(get z_min)}

iwp-stage -c "$config" --list >"$run/files.ndjson"
echo "== $(wc -l <"$run/files.ndjson") input files: staging, rasters at every level, web tiles" >&2
set +e
iwp-stage -c "$config" --input "$run/files.ndjson" | tee "$run/stage.ndjson" |
  iwp-raster -c "$config" | tee "$run/raster.ndjson" |
  iwp-webtile -c "$config" --wmts "$web/WMTSCapabilities.xml" --viewer --preview "$preview" >"$run/webtile.ndjson"
codes=("${PIPESTATUS[@]}")
set -e
echo "== exit status: stage ${codes[0]}, raster ${codes[2]}, webtile ${codes[4]} (1: some units failed, see their lines)" >&2
for c in "${codes[0]}" "${codes[2]}" "${codes[4]}"; do
  [ "$c" -le 1 ] || { echo "run-local.sh: a stage failed to run (exit $c)" >&2; exit "$c"; }
done

# Summaries: every input file staged; every GeoTIFF rendered.
rc=0
iwp-progress --jobs "$run/files.ndjson" "$run/stage.ndjson" --once --name stage >"$run/summary.ndjson" || rc=$?
iwp-progress --jobs "$run/raster.ndjson" "$run/webtile.ndjson" --once --name webtile >>"$run/summary.ndjson" || rc=$?
if [ -n "${IWP_3DTILES+set}" ]; then
  # Optional: a content per staged z-max tile, then the hierarchy from their result lines.
  iwp-3dtiles -c "$config" --list >"$run/3dtiles-jobs.ndjson"
  # shellcheck disable=SC2086 # IWP_3DTILES holds flags
  iwp-3dtiles -c "$config" --input "$run/3dtiles-jobs.ndjson" $IWP_3DTILES >"$run/3dtiles.ndjson" || rc=$?
  iwp-3dtiles -c "$config" --tileset --input "$run/3dtiles.ndjson" >"$run/tileset.ndjson" || rc=$?
  iwp-progress --jobs "$run/3dtiles-jobs.ndjson" "$run/3dtiles.ndjson" --once --name 3dtiles >>"$run/summary.ndjson" || rc=$?
  # The map page again, now with its 3D view.
  iwp-webtile -c "$config" --input "$run/raster.ndjson" --wmts "$web/WMTSCapabilities.xml" --viewer --no-tiles -q >/dev/null || rc=$?
  echo "== 3D tiles: $(get dir_3dtiles)/tileset.json" >&2
fi
# Mosaics of every level (IWP_COG_BELOW: COGs of the levels of at most that many pixels), the
# optional area extracts (IWP_AREAS: a file of area lines), and the run's STAC catalog.
cog=()
if [ -n "${IWP_COG_BELOW:-}" ]; then cog=(--cog-below "$IWP_COG_BELOW"); fi
iwp-mosaic -c "$config" --input "$run/raster.ndjson" "${cog[@]}" -q >"$run/mosaics.ndjson" || rc=$?
touch "$run/extracts.ndjson" # every extract's lines, this run's added: the catalog lists them all
if [ -n "${IWP_AREAS:-}" ]; then
  # shellcheck disable=SC2086 # IWP_EXTRACT holds flags
  iwp-extract -c "$config" --input "$IWP_AREAS" ${IWP_EXTRACT:-} >"$run/extracts.new.ndjson" || rc=$?
  cat "$run/extracts.new.ndjson" >>"$run/extracts.ndjson"
  echo "== extracts: $(grep -c '"status":"ok"' "$run/extracts.new.ndjson") of $(grep -c . "$IWP_AREAS") areas in $(get dir_extracts)" >&2
fi
cat "$run/stage.ndjson" "$run/mosaics.ndjson" "$run/extracts.ndjson" | iwp-catalog -c "$config" -q >"$run/catalog.ndjson" || rc=$?
echo "== STAC catalog: $(get dir_catalog)/catalog.json" >&2
echo "== previews of z$preview:" >&2
ls "$web"/*/preview-z"$preview".png
echo "== map page: $web/index.html (serve a folder holding it and the tiles, e.g. python3 -m http.server -d $(dirname "$web"))" >&2
exit "$rc"
