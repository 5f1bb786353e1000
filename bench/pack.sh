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
report() { # report NAME SECONDS
  awk -v name="$1" -v s="$2" -v n="$count" -v b="$bytes" 'BEGIN { printf "%-34s seconds=%.2f files_per_s=%d MB_per_s=%.1f\n", name, s, n / s, b / 1048576 / s }'
}
elapsed() { local a b; a=$(date +%s.%N); "$@" >/dev/null; b=$(date +%s.%N); sync; awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'; }
# Baselines first, each followed by a sync so the next starts with a clean page cache state.
t1=$(elapsed tar cf "$work/all.tar" -C "$work" src)
mkdir -p "$work/tarout"
t2=$(elapsed tar xf "$work/all.tar" -C "$work/tarout")
c=$(elapsed cp -r "$work/src" "$work/cpout")
rm -rf "$work/tarout" "$work/cpout" "$work/all.tar"
sync
report "tar cf" "$t1"
report "tar xf" "$t2"
report "cp -r" "$c"
for t in 1 2; do
  rm -rf "$work/pack$t" "$work/out$t"
  sync
  p=$(elapsed "$bin/iwp-pack" pack "$work/src" --into "$work/pack$t" --size 64MiB --threads "$t" -q)
  u=$(elapsed "$bin/iwp-pack" unpack "$work/pack$t" --to "$work/out$t" --threads "$t" -q)
  report "iwp-pack pack (threads=$t)" "$p"
  report "iwp-pack unpack+verify (threads=$t)" "$u"
  eval "pack_$t=$p unpack_$t=$u"
  rm -rf "$work/out$t"
done
awk -v p="$pack_1" -v u="$unpack_1" -v p2="$pack_2" -v u2="$unpack_2" -v t1="$t1" -v t2="$t2" 'BEGIN {
  printf "pack+unpack vs tar cf+xf: 1 thread %.2fx, 2 threads %.2fx the speed of tar\n", (t1 + t2) / (p + u), (t1 + t2) / (p2 + u2) }'
