#!/usr/bin/env bash
# The IWP workflow's steps for Slurm, shared by iwp-run.sbatch and the one-stage scripts.
# Source it from a batch script (after `iwp_setup CONFIG`); srun runs its task_* functions as
# `bash lib.sh task_NAME` on every task or node.
#
# Environment (all optional):
#   IWP_RUN       run folder on the shared filesystem (default: $SLURM_SUBMIT_DIR/iwp-run)
#   IWP_LOCAL     node-local scratch (default: $TMPDIR or /tmp); each job uses IWP_LOCAL/iwp-JOBID-NODE
#   IWP_PREVIEW_Z zoom level of the preview mosaic (default: the config's lowest level)
#   IWP_FORCE=1   the one-stage scripts rewrite outputs that exist (the tools' --force)
#   IWP_BIN       folder of the iwp-* binaries, if they are not on PATH
#
# The run folder (RUN):
#   stage/jobs.ndjson             one line per input file (written once)
#   stage/live/*.ndjson           staging results of the running job, per task (followed live)
#   stage/done/*.ndjson           staging results whose tiles reached the shared filesystem
#   ship/NODE-JOB/, nodes/NODE-JOB/   each node's staged tiles: archives, and unpacked
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
  for t in iwp-nodes iwp-pack iwp-stage iwp-merge iwp-raster iwp-webtile iwp-progress; do
    command -v "$t" >/dev/null || die "$t not on PATH (set IWP_BIN to the folder of the iwp binaries)"
  done
  RUN=$(mkdir -p "${IWP_RUN:-${SLURM_SUBMIT_DIR:-$PWD}/iwp-run}" && cd "${IWP_RUN:-${SLURM_SUBMIT_DIR:-$PWD}/iwp-run}" && pwd)
  LOCAL_BASE=${IWP_LOCAL:-${TMPDIR:-/tmp}}
  JOB=${SLURM_JOB_ID:-local}
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

# Footprints to every node's local disk as a few verified archives (when dedup uses them).
iwp_footprints() {
  [ "$(cfg deduplicate_method)" = footprints ] || return 0
  if ! ls "$RUN"/footprints/manifest-*.ndjson >/dev/null 2>&1; then
    say "packing footprints from $(cfg dir_footprints)"
    iwp-pack pack "$(cfg dir_footprints)" --into "$RUN/footprints" -q >"$RUN/logs/footprints-pack.ndjson"
  fi
  say "unpacking footprints on every node"
  on_nodes footprints task_footprints
}

task_footprints() { iwp-pack unpack "$RUN/footprints" --to "$(local_dir)/footprints" -q; }

# The config overrides of a staging task: footprints from the node-local copy.
stage_sets() {
  if [ "$(cfg deduplicate_method)" = footprints ]; then
    echo "--set" "dir_footprints=$(local_dir)/footprints"
  fi
}

# Staging: the files no earlier job shipped, staged by every task into node-local folders,
# then every node's tiles shipped to the shared filesystem (and only then their result lines
# count as done).
iwp_stage() {
  local dir=$RUN/stage
  mkdir -p "$dir/live" "$dir/done" "$dir/lost"
  if [ ! -s "$dir/jobs.ndjson" ]; then
    iwp-stage -c "$CONFIG" --list >"$dir/jobs.ndjson.tmp"
    mv "$dir/jobs.ndjson.tmp" "$dir/jobs.ndjson"
  fi
  # Results of a job that ended before shipping: their tiles are not on the shared filesystem.
  if ls "$dir"/live/*.ndjson >/dev/null 2>&1; then
    say "a previous job stopped during staging: its unshipped results moved to $dir/lost"
    mv "$dir"/live/*.ndjson "$dir/lost/"
  fi
  iwp-progress --jobs "$dir/jobs.ndjson" "$dir/done/*.ndjson" --failed >"$dir/todo.ndjson"
  say "staging $(wc -l <"$dir/todo.ndjson") of $(wc -l <"$dir/jobs.ndjson") files"
  if [ -s "$dir/todo.ndjson" ]; then
    tolerant on_tasks stage/live stage task_stage
    say "shipping staged tiles from every node"
    on_nodes ship task_ship
  fi
  local rc=0
  iwp-progress --jobs "$dir/jobs.ndjson" "$dir/done/*.ndjson" --once -q >/dev/null || rc=$?
  [ "$rc" = 3 ] && die "staging incomplete: see iwp-progress --jobs $dir/jobs.ndjson '$dir/done/*.ndjson' --once"
  return 0
}

task_stage() {
  # shellcheck disable=SC2046
  iwp-stage -c "$CONFIG" --input "$RUN/stage/todo.ndjson" --shard auto --out "$(local_dir)/staged" $(stage_sets)
}

# One node's staged tiles to RUN/nodes/NODE-JOB (verified archives), then its result lines to done.
task_ship() {
  local node local ship
  node=$(node_name)
  local=$(local_dir)/staged
  ship=$RUN/ship/$node-$JOB
  if [ -d "$local" ]; then
    iwp-pack pack "$local" --into "$ship" -q >/dev/null
    # Unpacked beside its final name, renamed when every file is verified: merge reads only
    # complete node folders (a job cancelled here leaves a hidden .part folder).
    rm -rf "$RUN/nodes/.$node-$JOB.part"
    iwp-pack unpack "$ship" --to "$RUN/nodes/.$node-$JOB.part" -q >/dev/null
    mv "$RUN/nodes/.$node-$JOB.part" "$RUN/nodes/$node-$JOB"
  fi
  for f in "$RUN"/stage/live/stage."$node".*.ndjson; do
    [ -e "$f" ] || continue
    mv "$f" "$RUN/stage/done/$(basename "$f" .ndjson).$JOB.ndjson"
  done
}

# Merging every node's tiles into dir_staged (tiles in one source linked, others combined).
iwp_merge() {
  local sources=("$RUN"/nodes/*)
  [ -e "${sources[0]}" ] || { say "merge: nothing staged"; return 0; }
  rm -f "$RUN"/merge/merge.*.ndjson
  tolerant on_tasks merge merge iwp-merge -c "$CONFIG" --from "${sources[@]}" --shard auto
}

# Rasters: z-max from the staged tiles, then each level from the one above, each its own step.
iwp_raster() {
  local zmax zmin z force=()
  zmax=$(cfg z_max)
  zmin=$(cfg z_min)
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  mkdir -p "$RUN/raster"
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
}

# Web tiles from every GeoTIFF line, then capabilities and a preview (one task: they need all).
iwp_webtile() {
  local force=() preview
  [ "${IWP_FORCE:-0}" = 1 ] && force=(--force)
  preview=${IWP_PREVIEW_Z:-$(cfg z_min)}
  mkdir -p "$RUN/webtile"
  cat "$RUN"/raster/z*.ndjson >"$RUN/webtile/jobs.ndjson"
  rm -f "$RUN"/webtile/webtile.*.ndjson
  tolerant on_tasks webtile webtile iwp-webtile -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" --shard auto "${force[@]}"
  tolerant iwp-webtile -c "$CONFIG" --input "$RUN/webtile/jobs.ndjson" \
    --wmts "$(cfg dir_web_tiles)/WMTSCapabilities.xml" --preview "$preview" -q >"$RUN/webtile/final.ndjson"
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
  rm -f "$RUN/$1.done" "$RUN/$1"-z*.done
  export IWP_REDO=1
  if [ "$1" = stage ] && [ "${IWP_FORCE:-0}" = 1 ]; then
    say "IWP_FORCE=1: every file staged again"
    mkdir -p "$RUN/stage/lost"
    mv "$RUN"/stage/done/*.ndjson "$RUN/stage/lost/" 2>/dev/null || true
  fi
  [ "$1" = stage ] && iwp_footprints
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
  say "$1: start"
  "iwp_$1"
  mark_done "$1"
  say "$1: done"
}

# `bash lib.sh task_NAME` (from srun) runs that task function.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  case $1 in
  task_*) "$@" ;;
  *) die "unknown task $1" ;;
  esac
fi
