# Shared helpers of the benchmark scripts (sourced).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${IWP_BIN:-$here/target/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs a command under /usr/bin/time; prints "seconds peak_rss_kb".
timed() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/time"
}

# Times to repeat a measurement: scripts report the fastest run (this VM's neighbours make
# single runs vary by +-40%) and the slowest, so the spread is visible.
repeat=${REPEAT:-3}

# Smallest and largest of numbers on stdin: prints "MIN MAX".
min_max() { awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 } END { print lo, hi }'; }

# Items per second: rate COUNT SECONDS.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }'; }

# Like timed, with the command's stdout saved to FILE: timed_out FILE CMD...
timed_out() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/time"
}

# Generates $polygons polygons in $files files into $work/data with z_range ZMIN ZMAX; sets cfg
# and writes one staging job line per input file to $work/files.ndjson: sample ZMIN ZMAX
sample() {
  "$bin/iwp-synth" --out "$work/data" --polygons "$polygons" --files "$files" --z-range "$1" "$2" -q >/dev/null
  cfg="$work/data/config.json"
  "$bin/iwp-stage" -c "$cfg" --list > "$work/files.ndjson"
}
