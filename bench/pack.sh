#!/usr/bin/env bash
# Benchmark of iwp-pack: FILES generated files of 1-4 KB in nested folders, packed into archives
# and unpacked (every file verified against its checksum), against `tar cf` + `tar xf` and
# `cp -r` of the same tree in the same run. Reports files/s and MB/s for each.
# Usage: bench/pack.sh [FILES]      (default: 100000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
count=${1:-100000}

mkdir -p "$work/src"
awk -v n="$count" -v dir="$work/src" 'BEGIN {
  srand(7)
  for (i = 0; i < n; i++) {
    d = sprintf("%s/%03d/%02d", dir, i % 97, i % 13)
    if (!(d in made)) { system("mkdir -p " d); made[d] = 1 }
    len = 1024 + int(rand() * 3072); s = ""
    while (length(s) < len) s = s sprintf("%08x", int(rand() * 4294967295))
    printf "%s", substr(s, 1, len) > (d "/f" i ".bin"); close(d "/f" i ".bin")
  }
}'
bytes=$(du -sb "$work/src" | cut -f1)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "iwp-pack: $count files, $mb MB"
sync
sleep 3
report() { # report NAME SECONDS [SLOWEST]
  awk -v name="$1" -v s="$2" -v m="${3:-$2}" -v n="$count" -v b="$bytes" 'BEGIN { printf "%-34s seconds=%.2f (slowest %.2f) files_per_s=%d MB_per_s=%.1f\n", name, s, m, n / s, b / 1048576 / s }'
}
# Seconds for a command and the sync after it: every contender ends with its data on disk
# (iwp-pack fsyncs its archives; tar and cp leave it to the page cache).
elapsed() {
  local a b
  sync
  a=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; head -5 "$work/err" >&2; exit 1; }
  sync
  b=$(date +%s.%N)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
}
# Extractions write into a fresh filesystem each time (fresh_dir), sized for the tree.
fs_mb=$((bytes * 3 / 1048576 + 512))
# best NAME CMD...: runs CMD $repeat times with {} replaced by a fresh output folder; prints "FASTEST SLOWEST".
best() {
  local name=$1 i out args t
  shift
  for i in $(seq "$repeat"); do
    out=$(fresh_dir "$name$i" "$fs_mb" $((count + 10000)))
    args=("${@//\{\}/$out}")
    t=$(elapsed "${args[@]}")
    drop_dir "$name$i"
    echo "$t"
  done | min_max
}
probe=$(fresh_dir probe 64 1024)
kind=$(mountpoint -q "$probe" && echo "a new loop-mounted ext4 each" || echo "plain folders (not root, or no loop devices)")
drop_dir probe
echo "each figure: fastest of $repeat runs; extractions into $kind"
read -r t1 t1_max < <(for i in $(seq "$repeat"); do rm -f "$work/all.tar"; elapsed tar cf "$work/all.tar" -C "$work" src; echo; done | min_max)
read -r t2 t2_max < <(best tarout tar xf "$work/all.tar" -C {})
read -r c c_max < <(best cpout cp -r "$work/src" {}/src)
rm -f "$work/all.tar"
report "tar cf" "$t1" "$t1_max"
report "tar xf" "$t2" "$t2_max"
report "cp -r" "$c" "$c_max"
for t in 1 2; do
  read -r p p_max < <(for i in $(seq "$repeat"); do rm -rf "$work/pack$t"; elapsed "$bin/iwp-pack" pack "$work/src" --into "$work/pack$t" --size 64MiB --threads "$t" -q; echo; done | min_max)
  read -r u u_max < <(best "out$t-" "$bin/iwp-pack" unpack "$work/pack$t" --to {} --threads "$t" -q)
  report "iwp-pack pack (threads=$t)" "$p" "$p_max"
  report "iwp-pack unpack+verify (threads=$t)" "$u" "$u_max"
  eval "pack_$t=$p unpack_$t=$u"
done
awk -v p="$pack_1" -v u="$unpack_1" -v p2="$pack_2" -v u2="$unpack_2" -v t1="$t1" -v t2="$t2" 'BEGIN {
  printf "pack+unpack vs tar cf+xf: 1 thread %.2fx, 2 threads %.2fx the speed of tar\n", (t1 + t2) / (p + u), (t1 + t2) / (p2 + u2) }'
