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

# Items per second: rate COUNT SECONDS.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }'; }

# Like timed, with the command's stdout saved to FILE: timed_out FILE CMD...
timed_out() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/time"
}
