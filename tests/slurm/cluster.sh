#!/usr/bin/env bash
# A throwaway Slurm cluster on this machine for the tests: one slurmctld and NODES slurmd
# (node1..nodeN, all on localhost with their own ports), no munge (auth/none), every file under DIR.
#   tests/slurm/cluster.sh start DIR [NODES]   prints the SLURM_CONF to export, waits until idle
#   tests/slurm/cluster.sh stop DIR            stops exactly the daemons it started (by pid)
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop DIR [NODES]}
dir=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
nodes=${3:-2}
conf=$dir/slurm.conf

case $cmd in
start)
  for d in slurmctld slurmd sinfo; do
    command -v "$d" >/dev/null || { echo "cluster.sh: $d not found (apt-get install slurmctld slurmd slurm-client)" >&2; exit 3; }
  done
  [ -d /sys/fs/cgroup ] || { echo "cluster.sh: slurmd needs /sys/fs/cgroup" >&2; exit 3; }
  mkdir -p "$dir/state" "$dir/log"
  # Ports from the folder's name hash, so two clusters (two test runs) do not collide.
  base=$((20000 + $(cksum <<<"$dir" | cut -d' ' -f1) % 20000))
  cat >"$conf" <<EOF
ClusterName=iwptest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$base
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=5
# A node whose slurmd stops answering is DOWN after 15 s (its jobs end with NODE_FAIL), so a test
# of a dead node does not wait the default 5 minutes.
SlurmdTimeout=15
EOF
  for i in $(seq "$nodes"); do
    echo "NodeName=node$i NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((base + i)) CPUs=$(nproc) State=UNKNOWN" >>"$conf"
  done
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$conf"
  export SLURM_CONF=$conf
  slurmctld
  for i in $(seq "$nodes"); do slurmd -N "node$i"; done
  for _ in $(seq 100); do
    idle=$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle' || true)
    [ "$idle" = "$nodes" ] && { echo "$conf"; exit 0; }
    sleep 0.2
  done
  echo "cluster.sh: nodes not idle after 20 s:" >&2
  sinfo -N >&2 || true
  tail -5 "$dir"/log/*.log >&2 || true
  exit 1
  ;;
stop)
  pids=$(cat "$dir"/slurmd-*.pid "$dir/slurmctld.pid" 2>/dev/null || true)
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  for pid in $pids; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -f "$dir"/slurmd-*.pid "$dir/slurmctld.pid"
  ;;
*)
  echo "usage: cluster.sh start|stop DIR [NODES]" >&2
  exit 2
  ;;
esac
