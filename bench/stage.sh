#!/usr/bin/env bash
# Benchmark of iwp-stage: generated IWP-like data (EPSG:3413, footprints, dedup on), z-max 15,
# staged on 1 and 2 threads taking turns, into a fresh ext4 (on a loop device: each block is
# written twice), again into tmpfs (as root; a plain folder otherwise, with a warning) and again
# into new folders on the disk holding the temporary folder, against ogr2ogr converting the same
# files to GeoPackage in the same run (fastest of REPEAT runs, default 3). Reports polygons/s, the time
# ratio to ogr2ogr (alone, and followed by sync -f of its files: iwp-stage's time includes
# flushing its tiles to disk), 1->2 thread scaling run by run and its median, the core-seconds
# other processes used meanwhile, and peak RSS; and the machine's own limit for the same work:
# two 1-thread runs at once against one alone.
# Then one file of half the polygons on 1 and 2 threads, and peak RSS for 25, 100 and 400
# files of 2,000 polygons each (it must stay flat).
# Usage: bench/stage.sh [POLYGONS] [FILES]      (defaults: 1000000 50, as issue 3 asks)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
polygons=${1:-1000000}
files=${2:-50}

# Runs a command under /usr/bin/time and reads the machine's busy time from /proc/stat around it;
# prints "seconds peak_rss_kb other_core_seconds", the last being what other processes (the
# kernel's writeback and loop-device workers, mostly) kept the cores busy for meanwhile.
timed_busy() {
  local b0 b1
  b0=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  b1=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  awk -v b="$((b1 - b0))" -v hz="$(getconf CLK_TCK)" '{ printf "%s %s %.2f\n", $1, $2, b / hz - $3 - $4 }' "$work/time"
}

# Stages the job lines of CONFIG $repeat times on 1 and on 2 threads, the two taking turns (1
# then 2, then 2 then 1, ...) so that this VM's drift from its neighbours weighs on both alike,
# each run into a fresh filesystem of SIZE_MB (see fresh_dir: no run pays for an earlier one's
# deletions; KIND ext4, the default, tmpfs, or disk: the folders then stay until all runs end).
# Writes "seconds peak_rss_kb other_core_seconds" per run to $work/NAME-THREADS.runs, each
# turn's 1-thread time over its 2-thread time (sorted, on one line) to $work/NAME.pairs, and
# prints, per thread count, "threads fastest slowest peak_rss_kb mean_other_core_seconds":
# stage_runs NAME CONFIG JOBS SIZE_MB [KIND]
stage_runs() {
  local name=$1 config=$2 jobs=$3 size=$4 kind=${5:-ext4} out r t order
  rm -f "$work/$name-1.runs" "$work/$name-2.runs"
  for r in $(seq "$repeat"); do
    order="1 2"
    if [ $((r % 2)) = 0 ]; then order="2 1"; fi
    for t in $order; do
      out=$(fresh_dir "$name-$t-$r" "$size" 200000 "$kind")
      rm -f "$(dirname "$config")/staging_summary.csv"
      timed_busy "$bin/iwp-stage" -c "$config" --input "$jobs" --threads "$t" --out "$out" -q >>"$work/$name-$t.runs"
      if [ "$kind" != disk ]; then drop_dir "$name-$t-$r"; fi
    done
  done
  if [ "$kind" = disk ]; then
    for r in $(seq "$repeat"); do drop_dir "$name-1-$r" && drop_dir "$name-2-$r"; done
  fi
  for t in 1 2; do
    read -r lo hi < <(cut -d' ' -f1 "$work/$name-$t.runs" | min_max)
    echo "$t $lo $hi $(cut -d' ' -f2 "$work/$name-$t.runs" | sort -n | tail -1) $(awk '{ s += $3 } END { printf "%.2f", s / NR }' "$work/$name-$t.runs")"
  done
  paste -d' ' "$work/$name-1.runs" "$work/$name-2.runs" | awk '{ printf "%.2f\n", $1 / $4 }' | sort -n |
    tr '\n' ' ' >"$work/$name.pairs"
}

# The middle of the numbers given (the mean of the two middle ones for an even count): median N...
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2 }'; }

sample 11 15
echo "iwp-stage: $polygons polygons in $files files, z-max 15, footprint dedup on; fastest of $repeat runs (slowest), 1 and 2 threads taking turns"
# The disk's own filesystem keeps every run's tiles until the pass ends: check it has room.
need_mb=$((polygons / 1000 * 2 * repeat))
if [ "$(df -Pm "$work" | awk 'NR == 2 { print $4 }')" -lt "$need_mb" ]; then
  echo "error: the runs into $(df -P "$work" | awk 'NR == 2 { print $6 }') need about $need_mb MB free" >&2
  exit 1
fi
echo "disk: new folders on $(df -PT "$work" | awk 'NR == 2 { print $1 " (" $2 ") at " $7 }'), kept until the pass ends"
for kind in ext4 tmpfs disk; do
  stage_runs "staged-$kind" "$cfg" "$work/files.ndjson" 2048 "$kind" >"$work/stage_runs.out"
  while read -r t secs slowest rss other; do
    echo "into $kind, threads=$t seconds=$secs ($slowest) polygons_per_s=$(rate "$polygons" "$secs") peak_rss_mb=$((rss / 1024)) other_processes_core_s=$other"
    eval "secs_${kind}_$t=$secs"
  done <"$work/stage_runs.out"
  pairs=$(cat "$work/staged-$kind.pairs")
  # shellcheck disable=SC2086
  echo "into $kind, 1 -> 2 threads run by run (1-thread time / 2-thread time of the same turn): $pairs; median $(median $pairs)x"
done
# The machine's own limit for this work: two 1-thread runs at once, each staging every file into
# its own tmpfs (they share nothing but the machine), against one such run alone, taking turns.
# A turn's ratio is twice the time alone over the slower of the two at once.
copies=()
for r in $(seq "$repeat"); do
  order="alone both"
  if [ $((r % 2)) = 0 ]; then order="both alone"; fi
  for m in $order; do
    rm -f "$(dirname "$cfg")/staging_summary.csv"
    a=$(fresh_dir "copy-a-$r" 2048 200000 tmpfs)
    if [ "$m" = both ]; then b=$(fresh_dir "copy-b-$r" 2048 200000 tmpfs); fi
    start=$(date +%s.%N)
    if [ "$m" = both ]; then
      "$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" --threads 1 --out "$b" -q >/dev/null 2>"$work/err-b" &
    fi
    "$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" --threads 1 --out "$a" -q >/dev/null 2>"$work/err" ||
      { cat "$work/err" >&2; exit 1; }
    if [ "$m" = both ]; then wait $! || { cat "$work/err-b" >&2; exit 1; }; fi
    eval "secs_$m=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
    drop_dir "copy-a-$r"
    if [ "$m" = both ]; then drop_dir "copy-b-$r"; fi
  done
  # shellcheck disable=SC2154
  copies+=("$(awk -v a="$secs_alone" -v b="$secs_both" 'BEGIN { printf "%.2f", 2 * a / b }')")
done
echo "the machine's limit, two 1-thread runs at once into their own tmpfs against one alone, run by run: ${copies[*]}; median $(median "${copies[@]}")x"
for r in $(seq "$repeat"); do
  out=$(fresh_dir "ogr-$r" 2048 200000)
  start=$(date +%s.%N)
  find "$work/data/input" -name '*.shp' | while read -r f; do
    ogr2ogr -f GPKG "$out/$(basename "$f" .shp).gpkg" "$f"
  done
  end=$(date +%s.%N)
  # Then its files flushed to disk, as iwp-stage flushes its tiles before renaming them.
  sync -f "$out"
  synced=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' >> "$work/ogr-times"
  awk -v a="$start" -v b="$synced" 'BEGIN { printf "%.2f\n", b - a }' >> "$work/ogr-synced-times"
  drop_dir "ogr-$r"
done
read -r ogr ogr_slowest < <(min_max < "$work/ogr-times")
read -r ogr_synced ogr_synced_slowest < <(min_max < "$work/ogr-synced-times")
echo "ogr2ogr to GPKG (1 thread, same files) seconds=$ogr ($ogr_slowest) polygons_per_s=$(rate "$polygons" "$ogr")"
echo "ogr2ogr to GPKG, then sync -f of its files seconds=$ogr_synced ($ogr_synced_slowest)"
awk -v o="$ogr" -v s="$ogr_synced" -v a="$secs_ext4_1" -v b="$secs_ext4_2" 'BEGIN { printf "into ext4: iwp-stage(1 thread) time / ogr2ogr time = %.2fx (speed %.2fx), / ogr2ogr and sync = %.2fx; 1 -> 2 threads = %.2fx (fastest to fastest)\n", a / o, o / a, a / s, a / b }'

# One large file (half the polygons): on 2 threads its features are read in ranges that the
# second thread takes over, as when a run's last file is staged while the other threads idle.
big=$((polygons / 2))
rm -rf "$work/big"
"$bin/iwp-synth" --out "$work/big" --polygons "$big" --files 1 --z-range 11 15 -q >/dev/null
"$bin/iwp-stage" -c "$work/big/config.json" --list > "$work/big.ndjson"
stage_runs big "$work/big/config.json" "$work/big.ndjson" 1024 >"$work/stage_runs.out"
while read -r t secs slowest _; do
  eval "big_$t=$secs"
  echo "one file of $big polygons, threads=$t seconds=$secs ($slowest)"
done <"$work/stage_runs.out"
pairs=$(cat "$work/big.pairs")
# shellcheck disable=SC2086
awk -v a="$big_1" -v b="$big_2" -v m="$(median $pairs)" -v p="$pairs" 'BEGIN { printf "one file, 1 -> 2 threads = %.2fx (fastest to fastest); run by run: %s; median %.2fx\n", a / b, p, m }'

# Peak RSS must not grow with the number of files: the same 2,000 polygons per file, 4x and 16x
# the files, staged on 2 threads.
echo "peak RSS by number of files (2,000 polygons each, 2 threads):"
for n in 25 100 400; do
  rm -rf "$work/many"
  "$bin/iwp-synth" --out "$work/many" --polygons $((n * 2000)) --files "$n" --z-range 11 15 -q >/dev/null
  "$bin/iwp-stage" -c "$work/many/config.json" --list > "$work/many.ndjson"
  read -r secs rss < <(timed "$bin/iwp-stage" -c "$work/many/config.json" --input "$work/many.ndjson" --threads 2 -q)
  echo "files=$n polygons=$((n * 2000)) seconds=$secs polygons_per_s=$(rate $((n * 2000)) "$secs") peak_rss_mb=$((rss / 1024))"
done
