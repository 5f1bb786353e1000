# Shared helpers of the benchmark scripts (sourced).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${IWP_BIN:-$here/target/release}
work=$(mktemp -d)
# Unmounts what fresh_dir mounted under $work (deepest first), then removes $work.
cleanup() {
  { findmnt -rn -o TARGET | grep "^$work/" | sort -r | while read -r m; do umount "$m"; done; } || true
  rm -rf "$work"
}
trap cleanup EXIT

# A new empty folder for outputs of many small files: as root, a freshly made ext4 filesystem
# (loop-mounted image of SIZE_MB), so one run's deletions do not slow the next run's file
# creation (this VM's root ext4 has no journal, and such ext4 skips inodes freed in the last
# seconds when creating files); else a plain folder. With KIND tmpfs, a tmpfs of SIZE_MB
# instead (memory only: no disk work); with KIND disk, a plain folder on the filesystem holding
# $work (the caller removes it only when no later run follows, as deletions slow the next file
# creations). Prints its path: fresh_dir NAME SIZE_MB INODES [KIND]
fresh_dir() {
  local dir=$work/$1
  mkdir -p "$dir"
  if [ "${4:-ext4}" = disk ]; then
    :
  elif [ "${4:-ext4}" = tmpfs ]; then
    if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o "size=${2}m" tmpfs "$dir"; then
      echo "warning: $dir is a plain folder, not a tmpfs (mounting one needs root)" >&2
    fi
  elif [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null &&
    truncate -s "${2}M" "$work/$1.img" && mkfs.ext4 -q -F -N "$3" "$work/$1.img" >/dev/null 2>&1 &&
    ! mount -o loop "$work/$1.img" "$dir" 2>/dev/null; then
    rm -f "$work/$1.img"
  fi
  echo "$dir"
}

# Unmounts and removes a fresh_dir: drop_dir NAME
drop_dir() {
  local dir=$work/$1
  if mountpoint -q "$dir"; then umount "$dir"; fi
  rm -rf "$dir" "$work/$1.img"
}

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

# sample ZMIN ZMAX, then the files staged, their staged-tile lines in $work/staged.ndjson:
# staged_sample ZMIN ZMAX
staged_sample() {
  sample "$1" "$2"
  "$bin/iwp-stage" -c "$cfg" --input "$work/files.ndjson" -q > "$work/staged.ndjson"
}
