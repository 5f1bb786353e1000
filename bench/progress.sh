#!/usr/bin/env bash
# Benchmark of iwp-progress on a finished stage: JOBS input-file job lines (path and bytes) and
# about 2 result lines per job in 16 task files on 4 hosts (each job 2 parts; 1% failed, 1%
# failed then redone in the next task's file, 2.5% with a part written twice), followed with
# `--once` and `--failed`, against `wc -l` and `cat` of the same result files in the same run.
# Reports seconds (fastest of REPEAT runs, slowest beside it), ns per result line (also without
# the job list's reading, timed alone with no result file), peak RSS and the ratio to `wc -l`.
# Usage: bench/progress.sh [JOBS]      (default: 1000000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
jobs=${1:-1000000}
tasks=16

awk -v n="$jobs" -v tasks="$tasks" -v dir="$work" 'BEGIN {
  srand(7)
  for (i = 0; i < n; i++) {
    src = sprintf("in/WV02_%08d_M1BS_P1BS.shp", i)
    printf "{\"path\":\"%s\",\"bytes\":%d}\n", src, 100000 + int(rand() * 5000000) > (dir "/jobs.ndjson")
    t = i % tasks; out = sprintf("%s/stage.node%02d.%d.ndjson", dir, t % 4, t)
    if (i % 100 == 7 || i % 100 == 57) {
      printf "{\"path\":\"%s\",\"bytes\":%d,\"status\":\"error\",\"error\":\"cannot read %s: not a shapefile\",\"secs\":0.004}\n", src, i, src > out
      if (i % 100 == 7) continue
      t = (i + 1) % tasks; out = sprintf("%s/stage.node%02d.%d.ndjson", dir, t % 4, t)
    }
    for (k = 0; k < 2; k++) {
      x = 2 * i + k; y = int(i / 7)
      line = sprintf("{\"tms\":\"WorldCRS84Quad\",\"z\":15,\"x\":%d,\"y\":%d,\"path\":\"staged/WorldCRS84Quad/15/%d/%d.gpkg\",\"features\":%d,\"source\":\"%s\",\"parts\":2,\"status\":\"ok\",\"secs\":%.3f}", x, y, x, y, 1 + int(rand() * 400), src, rand() * 30)
      print line > out
      if (k == 0 && i % 40 == 3) print line > out
    }
  }
}'
results=("$work"/stage.*.ndjson)
lines=$(cat "${results[@]}" | wc -l)
mb=$(du -cb "${results[@]}" | tail -1 | awk '{ printf "%.0f", $1 / 1048576 }')
echo "iwp-progress: $jobs jobs, $lines result lines ($mb MB) in ${#results[@]} task files; each figure: fastest of $repeat runs"

# Seconds and peak RSS (KB) of a command whose exit status may be 1 (failed jobs) or 3 (jobs
# without a result): "secs kb".
# Its stdout goes to $out (default $work/out).
measure() {
  local rc=0 a b
  a=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/time" "$@" >"${out:-$work/out}" 2>"$work/err" || rc=$?
  b=$(date +%s.%N)
  [ "$rc" -le 1 ] || [ "$rc" = 3 ] || { echo "exit $rc: $*" >&2; cat "$work/err" >&2; exit 1; }
  awk -v a="$a" -v b="$b" -v kb="$(tail -1 "$work/time")" 'BEGIN { printf "%.3f %d\n", b - a, kb }'
}
# best CMD...: runs CMD $repeat times; prints "FASTEST SLOWEST PEAK_KB" (the largest peak RSS).
best() {
  local i
  for i in $(seq "$repeat"); do measure "$@"; done |
    awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 } $2 > kb { kb = $2 } END { print lo, hi, kb }'
}
report() { # report NAME FASTEST SLOWEST PEAK_KB
  awk -v name="$1" -v s="$2" -v m="$3" -v kb="$4" -v n="$lines" 'BEGIN {
    printf "%-22s seconds=%.3f (slowest %.3f) ns_per_result_line=%d peak_rss_mb=%.1f\n", name, s, m, s * 1e9 / n, kb / 1024 }'
}

cd "$work"
read -r w w_max w_kb < <(out=/dev/null best wc -l "${results[@]}")
read -r c c_max c_kb < <(out=/dev/null best cat "${results[@]}")
read -r j j_max j_kb < <(best "$bin/iwp-progress" --jobs jobs.ndjson none.ndjson --once -q)
read -r o o_max o_kb < <(best "$bin/iwp-progress" --jobs jobs.ndjson 'stage.*.ndjson' --once -q)
summary=$(grep '"summary":true' "$work/out")
read -r f f_max f_kb < <(best "$bin/iwp-progress" --jobs jobs.ndjson 'stage.*.ndjson' --failed)
redo=$(wc -l <"$work/out")
report "wc -l" "$w" "$w_max" "$w_kb"
report "cat" "$c" "$c_max" "$c_kb"
report "job list alone" "$j" "$j_max" "$j_kb"
report "iwp-progress --once" "$o" "$o_max" "$o_kb"
report "iwp-progress --failed" "$f" "$f_max" "$f_kb"
echo "$summary" | awk -v redo="$redo" '{
  for (k = 1; k <= split("jobs ok failed running pending other_lines duplicate_jobs", key, " "); k++) {
    match($0, "\"" key[k] "\":[0-9]+"); printf "%s%s", (k > 1 ? " " : "summary: "), substr($0, RSTART + 1, RLENGTH - 1)
  }
  printf "; --failed printed %d job lines\n", redo
}' | tr -d '"'
awk -v a="$o" -v b="$w" -v c="$c" -v kb="$o_kb" -v j="$jobs" -v l="$j" -v n="$lines" 'BEGIN {
  printf "iwp-progress --once: time / wc -l time = %.1f, / cat time = %.1f; result lines alone %d ns each; peak RSS %d bytes per job\n",
    a / b, a / c, (a - l) * 1e9 / n, kb * 1024 / j }'
