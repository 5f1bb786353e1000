#!/usr/bin/env bash
# The IWP workflow's steps for Slurm, shared by iwp-run.sbatch and the one-stage scripts.
# Source it from a batch script (after `iwp_setup CONFIG`); srun runs its task_* functions as
# `bash lib.sh task_NAME` on every task or node.
#
# Environment the scripts read (all optional; docs/slurm.md has the whole list):
#   IWP_RUN        run folder on the shared filesystem (default: $SLURM_SUBMIT_DIR/iwp-run)
#   IWP_LOCAL      node-local scratch (default: $TMPDIR or /tmp); each job uses IWP_LOCAL/iwp-JOBID-NODE
#   IWP_SHIP_SECS  seconds between shipments of staged tiles to the run folder while staging runs
#                  (default 300): a job killed at its time limit loses at most that much staging
#   IWP_PREVIEW_Z  zoom level of the preview mosaic (default: the config's lowest level)
#   IWP_FORCE=1    the one-stage scripts rewrite outputs that exist (the tools' --force)
#   IWP_KEEP_LOCAL=1  keep this job's node-local folders at its end (for a look at them)
#   IWP_BIN        folder of the iwp-* binaries, if they are not on PATH
#   IWP_SLURM_DIR  folder of these scripts, when Slurm's copy of the batch script hides it
#   IWP_LEASE_SECS read by the tools: another host's temporaries count as abandoned once its
#                  journal is older than this (default 600)
#   and Slurm's own: SLURM_JOB_ID, SLURM_JOB_NUM_NODES, SLURM_NTASKS, SLURM_PROCID, SLURMD_NODENAME,
#   SLURM_SUBMIT_DIR (and TMPDIR).
#
# The run folder (RUN):
#   stage/jobs.ndjson             one line per input file (written once)
#   stage/live/*.ndjson           staging results of the running job, per task (followed live)
#   stage/done/*.ndjson           staging results whose tiles reached the shared filesystem,
#                                 appended at every shipment
#   ship/NODE-JOB/, nodes/NODE-JOB/   each node's staged tiles: archives (one pack run per
#                                 shipment, only tiles new or changed since), and unpacked
#   merge/, raster/, webtile/     result lines per task (STEP.NODE.TASK.ndjson) and job lists
#   logs/                         stderr of every task
#   STEP.done                     a finished step; iwp-run.sbatch skips it when resubmitted
#   summary.ndjson                iwp-progress's summary of every stage

set -euo pipefail

IWP_SLURM_LIB=$(readlink -f "${BASH_SOURCE[0]}")

# Logs a line with the time on stderr.
say() { echo "[$(date '+%F %T')] $*" >&2; }

# Fails with a message.
die() {
  say "error: $*"
  exit 1
}

# Sets up a run: CONFIG (absolute), RUN, LOCAL (this job's node-local folder, per node), the
# tools on PATH. Exported, so srun's tasks see them.
iwp_setup() {
  local config=${1:?usage: iwp_setup CONFIG}
  [ -f "$config" ] || die "config $config not found"
  CONFIG=$(readlink -f "$config")
  if [ -n "${IWP_BIN:-}" ]; then PATH=$IWP_BIN:$PATH; fi
  for t in iwp-nodes iwp-pack iwp-stage iwp-merge iwp-raster iwp-webtile iwp-mosaic iwp-catalog iwp-progress; do
    command -v "$t" >/dev/null || die "$t not on PATH (set IWP_BIN to the folder of the iwp binaries)"
  done
  RUN=$(mkdir -p "${IWP_RUN:-${SLURM_SUBMIT_DIR:-$PWD}/iwp-run}" && cd "${IWP_RUN:-${SLURM_SUBMIT_DIR:-$PWD}/iwp-run}" && pwd)
  LOCAL_BASE=${IWP_LOCAL:-${TMPDIR:-/tmp}}
  # A job requeued by Slurm (e.g. after a node failure) keeps its id: each run of it is told
  # apart by its restart count, so it never takes an earlier run's node folders or shipments.
  JOB=${SLURM_JOB_ID:-local}
  if [ "${SLURM_RESTART_COUNT:-0}" != 0 ]; then JOB=$JOB.r$SLURM_RESTART_COUNT; fi
  mkdir -p "$RUN/logs"
  export CONFIG RUN LOCAL_BASE JOB PATH IWP_SLURM_LIB
  say "run folder $RUN, config $CONFIG, job $JOB on ${SLURM_JOB_NUM_NODES:-1} nodes, ${SLURM_NTASKS:-1} tasks"
}

# This task's node name and node-local folder (set inside srun tasks).
node_name() { echo "${SLURMD_NODENAME:-$(hostname -s)}"; }
local_dir() { echo "$LOCAL_BASE/iwp-$JOB-$(node_name)"; }

# A config value as the tools resolve it: cfg KEY
cfg() { iwp-stage -c "$CONFIG" --get "$1"; }

is_done() { [ -f "$RUN/$1.done" ]; }
mark_done() { date '+%F %T' >"$RUN/$1.done"; }

# Inside a task: runs CMD (a command or a task_ function) with stdout appended to
# RUN/DIR/NAME.NODE.TASK.ndjson and stderr to RUN/logs/NAME.NODE.TASK.log, NODE being Slurm's
# node name (srun's %N is the host name, which several nodes may share): task_run DIR NAME CMD...
task_run() {
  local dir=$1 name=$2 id
  shift 2
  id="$(node_name).${SLURM_PROCID:-0}"
  mkdir -p "$RUN/$dir"
  "$@" >>"$RUN/$dir/$name.$id.ndjson" 2>>"$RUN/logs/$name.$id.log"
}

# Runs CMD on every task of the job, output as task_run names it: on_tasks DIR NAME CMD...
on_tasks() {
  srun --kill-on-bad-exit=0 bash "$IWP_SLURM_LIB" task_run "$@"
}

# Runs CMD once per node, its output in RUN/logs/: on_nodes NAME CMD...
on_nodes() {
  local name=$1
  shift
  srun --ntasks="${SLURM_JOB_NUM_NODES:-1}" --ntasks-per-node=1 --kill-on-bad-exit=0 \
    bash "$IWP_SLURM_LIB" task_run logs "$name" "$@"
}

# on_nodes beside a step that holds every CPU (srun --overlap): on_nodes_beside NAME CMD...
on_nodes_beside() {
  local name=$1
  shift
  srun --overlap --ntasks="${SLURM_JOB_NUM_NODES:-1}" --ntasks-per-node=1 --kill-on-bad-exit=0 \
    bash "$IWP_SLURM_LIB" task_run logs "$name" "$@"
}

# Runs a step's srun, tolerating tasks that exit 1 (some units failed: their error lines say
# which) but not usage errors (2) or a killed step: tolerant CMD...
tolerant() {
  local rc=0
  "$@" || rc=$?
  case $rc in
  0 | 1) return 0 ;;
  *) die "step failed (exit $rc): $* — see $RUN/logs/" ;;
  esac
}

# The footprint index (every footprint with its box), checked file by file and built when missing
# or stale, once, before the tasks start: each task then reads only the footprints near its files.
iwp_footprint_index() {
  [ "$(cfg deduplicate_method)" = footprints ] || return 0
  say "footprint index: checking $(cfg footprint_index)"
  iwp-stage -c "$CONFIG" --index-footprints -q >>"$RUN/logs/footprint-index.ndjson" 2>>"$RUN/logs/footprint-index.log" ||
    die "footprint index: see $RUN/logs/footprint-index.log"
}

# On every node of the job, the node-local folders of jobs no longer running removed.
iwp_clean_nodes() { on_nodes clean task_clean_local; }

# Removes node-local folders (IWP_LOCAL/iwp-JOB-NODE) that jobs no longer running left on this
# node: a cancelled or failed job never reaches its own clean-up.
task_clean_local() {
  local node d tag id
  node=$(node_name)
  for d in "$LOCAL_BASE"/iwp-*-"$node"; do
    [ -d "$d" ] || continue
    tag=${d#"$LOCAL_BASE"/iwp-}
    tag=${tag%-"$node"}
    id=${tag%%.*}
    [[ $id =~ ^[0-9]+$ ]] && [ "$tag" != "$JOB" ] || continue
    # An earlier run of this job (requeued), or a job that is not running.
    if [ "$id" = "${SLURM_JOB_ID:-}" ] || [ -z "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]; then
      say "$node: removing $d (job $tag is not running)"
      rm -rf "$d"
    fi
  done
}

# Finishes unpacking every shipment of earlier jobs (resumable, verified; their temporaries
# removed): a job killed while unpacking leaves a node folder with part of its last shipment.
iwp_finish_shipments() {
  local d
  for d in "$RUN"/ship/*/; do
    [ -d "$d" ] || continue
    d=${d%/}
    iwp-pack unpack "$d" --to "$RUN/nodes/$(basename "$d")" -q >/dev/null ||
      say "warning: unpacking $d again failed (see above); its tiles' files will be staged again"
  done
}

# Staging: the files no earlier job shipped, staged by every task into node-local folders, their
# tiles shipped from every node to the shared filesystem every IWP_SHIP_SECS while staging runs
# and once at its end (a result line counts as done once its tiles are shipped).
iwp_stage() {
  local dir=$RUN/stage ship_secs=${IWP_SHIP_SECS:-300} pid rc=0 next
  mkdir -p "$dir/live" "$dir/done" "$dir/lost"
  iwp_footprint_index
  if [ ! -s "$dir/jobs.ndjson" ]; then
    iwp-stage -c "$CONFIG" --list >"$dir/jobs.ndjson.tmp"
    mv "$dir/jobs.ndjson.tmp" "$dir/jobs.ndjson"
  fi
  iwp_finish_shipments
  # Results of a job that ended between shipments: what it shipped is in done/, the rest is lost.
  if ls "$dir"/live/*.ndjson >/dev/null 2>&1; then
    say "a previous job stopped during staging: its result files moved to $dir/lost (the lines it shipped are in $dir/done)"
    mv "$dir"/live/*.ndjson "$dir/lost/"
  fi
  iwp-progress --jobs "$dir/jobs.ndjson" "$dir/done/*.ndjson" --failed >"$dir/todo.ndjson"
  say "staging $(wc -l <"$dir/todo.ndjson") of $(wc -l <"$dir/jobs.ndjson") files"
  if [ -s "$dir/todo.ndjson" ]; then
    on_tasks stage/live stage task_stage &
    pid=$!
    next=$((SECONDS + ship_secs))
    while kill -0 "$pid" 2>/dev/null; do
      sleep 1
      if [ "$SECONDS" -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
        say "shipping staged tiles from every node (staging goes on)"
        on_nodes_beside ship task_ship || say "warning: a shipment failed; the next one ships its tiles"
        next=$((SECONDS + ship_secs))
      fi
    done
    wait "$pid" || rc=$?
    case $rc in 0 | 1) ;; *) die "staging step failed (exit $rc) — see $RUN/logs/" ;; esac
    say "shipping staged tiles from every node"
    on_nodes ship task_ship_last
  fi
  rc=0
  iwp-progress --jobs "$dir/jobs.ndjson" "$dir/done/*.ndjson" --once -q >/dev/null || rc=$?
  [ "$rc" = 3 ] && die "staging incomplete: see iwp-progress --jobs $dir/jobs.ndjson '$dir/done/*.ndjson' --once"
  return 0
}

task_stage() {
  iwp-stage -c "$CONFIG" --input "$RUN/stage/todo.ndjson" --shard auto --out "$(local_dir)/staged"
}

# One shipment of a node: the result lines its tasks have written so far (counted first), then its
# tiles new or changed since the last shipment packed into RUN/ship/NODE-JOB and unpacked
# (verified) into RUN/nodes/NODE-JOB, then those lines appended to stage/done/. A line is written
# after its tile, so every tile a counted line names is in the shipment.
task_ship() {
  local node staged ship state f n before done_file
  node=$(node_name)
  staged=$(local_dir)/staged
  ship=$RUN/ship/$node-$JOB
  state=$(local_dir)/shipped
  mkdir -p "$state"
  declare -A count=()
  for f in "$RUN"/stage/live/stage."$node".*.ndjson; do
    [ -e "$f" ] || continue
    count[$f]=$(head -c "$(stat -c %s "$f")" "$f" | wc -l)
  done
  if [ -d "$staged" ]; then
    local since=()
    ls "$ship"/manifest-*.ndjson >/dev/null 2>&1 && since=(--since "$ship")
    iwp-pack pack "$staged" --into "$ship" "${since[@]}" -q >/dev/null
    iwp-pack unpack "$ship" --to "$RUN/nodes/$node-$JOB" -q >/dev/null
  fi
  for f in "${!count[@]}"; do
    n=${count[$f]}
    before=$(cat "$state/$(basename "$f").lines" 2>/dev/null || echo 0)
    [ "$n" -gt "$before" ] || continue
    done_file=$RUN/stage/done/$(basename "$f" .ndjson).$JOB.ndjson
    sed -n "$((before + 1)),${n}p;${n}q" "$f" >>"$done_file"
    echo "$n" >"$state/$(basename "$f").lines"
  done
}

# After the last shipment: the live result files, every line of which is in done/, are removed.
task_ship_last() {
  task_ship
  rm -f "$RUN"/stage/live/stage."$(node_name)".*.ndjson
}

# Merging every node's tiles into dir_staged (tiles in one source linked, others combined).
iwp_merge() {
  iwp_finish_shipments
  local sources=("$RUN"/nodes/*)
  [ -e "${sources[0]}" ] || { say "merge: nothing staged"; return 0; }
  rm -f "$RUN"/merge/merge.*.ndjson
  tolerant on_tasks merge merge iwp-merge -c "$CONFIG" --from "${sources[@]}" --shard auto
}

# Rasters, by IWP_RASTER_SCHEDULE:
# - subtrees (the default): one step over every task, no barrier between levels: each task builds
#   whole subtrees and a tile above them is built by the task that finishes its last child
#   (claimed in RUN/raster/claims-JOB); its lines are then split by level into zZ.all.ndjson;
# - levels: z-max from the staged tiles, then each level from the one above, each its own step
#   (every task waits for a level's last tile before the next level starts).
iwp_raster() {
  local zmax zmin z force=() claims
  zmax=$(cfg z_max)
  zmin=$(cfg z_min)
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  mkdir -p "$RUN/raster"
  case ${IWP_RASTER_SCHEDULE:-subtrees} in
  subtrees)
    iwp-raster -c "$CONFIG" --list >"$RUN/raster/jobs-z$zmax.ndjson"
    rm -f "$RUN"/raster/z*.ndjson "$RUN"/raster/all.*.ndjson
    rm -rf "$RUN"/raster/claims-*
    claims=$RUN/raster/claims-$JOB
    say "raster z$zmax..z$zmin from $(wc -l <"$RUN/raster/jobs-z$zmax.ndjson") lines, every level at once"
    tolerant on_tasks raster all iwp-raster -c "$CONFIG" --input "$RUN/raster/jobs-z$zmax.ndjson" \
      --shard auto --claims "$claims" "${force[@]}"
    rm -rf "$claims"
    # Lines by level (the web tiles and the summaries read them so); lines without a level stay
    # in all.*.ndjson and the logs.
    for z in $(seq "$zmax" -1 "$zmin"); do
      cat "$RUN"/raster/all.*.ndjson | grep "\"z\":$z[,}]" >"$RUN/raster/z$z.all.ndjson" || true
      [ "$z" = "$zmax" ] || cat "$RUN"/raster/z$((z + 1)).*.ndjson >"$RUN/raster/jobs-z$z.ndjson"
    done
    ;;
  levels)
    for z in $(seq "$zmax" -1 "$zmin"); do
      if [ -z "${IWP_REDO:-}" ] && is_done "raster-z$z"; then
        say "raster z$z: done in an earlier job, skipped"
        continue
      fi
      if [ "$z" = "$zmax" ]; then
        iwp-raster -c "$CONFIG" --list >"$RUN/raster/jobs-z$z.ndjson"
      else
        cat "$RUN"/raster/z$((z + 1)).*.ndjson >"$RUN/raster/jobs-z$z.ndjson"
      fi
      rm -f "$RUN"/raster/z"$z".*.ndjson
      say "raster z$z from $(wc -l <"$RUN/raster/jobs-z$z.ndjson") lines"
      tolerant on_tasks raster "z$z" iwp-raster -c "$CONFIG" --z "$z" --input "$RUN/raster/jobs-z$z.ndjson" --shard auto "${force[@]}"
      mark_done "raster-z$z"
    done
    ;;
  *) die "IWP_RASTER_SCHEDULE=${IWP_RASTER_SCHEDULE}: use subtrees or levels" ;;
  esac
}

# Web tiles from every GeoTIFF line, then capabilities, the map page and a preview (one task:
# they need all).
iwp_webtile() {
  local force=() preview
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  preview=${IWP_PREVIEW_Z:-$(cfg z_min)}
  mkdir -p "$RUN/webtile"
  cat "$RUN"/raster/z*.ndjson >"$RUN/webtile/jobs.ndjson"
  rm -f "$RUN"/webtile/webtile.*.ndjson
  tolerant on_tasks webtile webtile iwp-webtile -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" --shard auto "${force[@]}"
  tolerant iwp-webtile -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" \
    --wmts "$(cfg dir_web_tiles)/WMTSCapabilities.xml" --viewer --no-tiles --preview "$preview" -q >"$RUN/webtile/final.ndjson"
}

# Optional (when IWP_3DTILES is set, to iwp-3dtiles's flags): a 3D Tiles content per staged z-max
# tile, shared over every task, then the tileset.json hierarchy from their result lines.
iwp_tiles3d() {
  local force=() flags
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  read -r -a flags <<<"${IWP_3DTILES:-}"
  mkdir -p "$RUN/tiles3d"
  iwp-3dtiles -c "$CONFIG" --list >"$RUN/tiles3d/jobs.ndjson"
  rm -f "$RUN"/tiles3d/tiles3d.*.ndjson
  tolerant on_tasks tiles3d tiles3d iwp-3dtiles -c "$CONFIG" --input "$RUN/tiles3d/jobs.ndjson" --shard auto "${force[@]}" "${flags[@]}"
  cat "$RUN"/tiles3d/tiles3d.*.ndjson >"$RUN/tiles3d/contents.ndjson"
  tolerant iwp-3dtiles -c "$CONFIG" --tileset --input "$RUN/tiles3d/contents.ndjson" -q >"$RUN/tiles3d/tileset.ndjson"
  # The map page again, now with its 3D view.
  tolerant iwp-webtile -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" \
    --wmts "$(cfg dir_web_tiles)/WMTSCapabilities.xml" --viewer --no-tiles -q >"$RUN/tiles3d/viewer.ndjson"
}

# Mosaics of every level from the GeoTIFF lines: a VRT per level and statistic, and with
# IWP_COG_BELOW (pixels) a COG of every band for the levels that small.
iwp_mosaic() {
  local cog=()
  [ -n "${IWP_COG_BELOW:-}" ] && cog=(--cog-below "$IWP_COG_BELOW")
  mkdir -p "$RUN/catalog"
  tolerant iwp-mosaic -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" "${cog[@]}" -q >"$RUN/catalog/mosaics.ndjson"
}

# The STAC catalog of the run (dir_catalog) from its result lines: the merged staged tiles, the
# mosaics and the extracts made so far; the web and 3D outputs are found in their folders.
iwp_catalog() {
  local lines=("$RUN"/merge/merge.*.ndjson "$RUN/catalog/mosaics.ndjson" "$RUN"/extract/*/extract.*.ndjson)
  mkdir -p "$RUN/catalog"
  cat "${lines[@]}" 2>/dev/null >"$RUN/catalog/lines.ndjson" || true
  tolerant iwp-catalog -c "$CONFIG" --input "$RUN/catalog/lines.ndjson" -q >"$RUN/catalog/catalog.ndjson"
}

# Area extracts (extract.sbatch): one per line of IWP_AREAS, shared over every task (IWP_EXTRACT:
# more iwp-extract flags, e.g. --t-srs EPSG:3413), each job's lines in extract/JOB/; then the
# catalog again, with the extracts of this job and the earlier ones.
iwp_extract() {
  local force=() flags out=$RUN/extract/$JOB
  [ -f "${IWP_AREAS:-}" ] || die "extract: IWP_AREAS (${IWP_AREAS:-unset}) is no file of area lines"
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  read -r -a flags <<<"${IWP_EXTRACT:-}"
  mkdir -p "$out"
  cp "$IWP_AREAS" "$out/jobs.ndjson"
  rm -f "$out"/extract.*.ndjson
  tolerant on_tasks "extract/$JOB" extract iwp-extract -c "$CONFIG" --input "$out/jobs.ndjson" --shard auto "${force[@]}" "${flags[@]}"
  say "extract: $(cat "$out"/extract.*.ndjson | grep -c '"status":"ok"') of $(grep -c . "$out/jobs.ndjson") areas extracted (failed ones: grep error $out/)"
  iwp_catalog
}

# Every stage's summary (iwp-progress) into RUN/summary.ndjson; exit 1 when any unit failed.
iwp_summary() {
  local rc=0 out=$RUN/summary.ndjson zmax zmin z
  : >"$out"
  summarize() { # summarize NAME JOBS RESULTS [--zoom Z]
    local r=0
    [ -s "$2" ] || return 0
    iwp-progress --jobs "$2" "$3" --once --name "$1" "${@:4}" -q >>"$out" || r=$?
    [ "$r" = 0 ] || rc=1
  }
  summarize stage "$RUN/stage/jobs.ndjson" "$RUN/stage/done/*.ndjson"
  zmax=$(cfg z_max)
  zmin=$(cfg z_min)
  for z in $(seq "$zmax" -1 "$zmin"); do
    if [ "$z" = "$zmax" ]; then
      summarize "raster-z$z" "$RUN/raster/jobs-z$z.ndjson" "$RUN/raster/z$z.*.ndjson"
    else
      summarize "raster-z$z" "$RUN/raster/jobs-z$z.ndjson" "$RUN/raster/z$z.*.ndjson" --zoom "$z"
    fi
  done
  summarize webtile "$RUN/webtile/jobs.ndjson" "$RUN/webtile/webtile.*.ndjson"
  summarize 3dtiles "$RUN/tiles3d/jobs.ndjson" "$RUN/tiles3d/tiles3d.*.ndjson"
  say "summary in $out:"
  sed 's/,"tasks".*//' "$out" >&2
  return "$rc"
}

# Removes this job's node-local folders (footprints, staged tiles), unless IWP_KEEP_LOCAL=1.
iwp_cleanup() {
  [ "${IWP_KEEP_LOCAL:-0}" = 1 ] || on_nodes cleanup task_cleanup
}

task_cleanup() { rm -rf "$(local_dir)"; }

# Redoes one stage (the one-stage scripts): its markers removed, outputs that exist skipped
# unless IWP_FORCE=1, then the summary: redo NAME
redo() {
  iwp_clean_nodes
  rm -f "$RUN/$1.done" "$RUN/$1"-z*.done
  export IWP_REDO=1
  if [ "$1" = stage ] && [ "${IWP_FORCE:-0}" = 1 ]; then
    say "IWP_FORCE=1: every file staged again"
    mkdir -p "$RUN/stage/lost"
    mv "$RUN"/stage/done/*.ndjson "$RUN/stage/lost/" 2>/dev/null || true
  fi
  step "$1"
  [ "$1" = stage ] && iwp_cleanup
  iwp_summary
}

# Runs STEP's function unless it is marked done; marks it when it returns: step NAME
step() {
  if is_done "$1"; then
    say "$1: done in an earlier job, skipped"
    return 0
  fi
  local t0
  t0=$(date +%s.%N)
  say "$1: start"
  "iwp_$1"
  mark_done "$1"
  say "$1: done in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
}

# `bash lib.sh task_NAME` (from srun) runs that task function.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  # Run by hand (e.g. `srun --ntasks-per-node=1 bash slurm/lib.sh task_clean_local`), not by a job
  # that set these up.
  : "${LOCAL_BASE:=${IWP_LOCAL:-${TMPDIR:-/tmp}}}" "${JOB:=${SLURM_JOB_ID:-local}}"
  case $1 in
  task_*) "$@" ;;
  *) die "unknown task $1" ;;
  esac
fi
