# tests/slurm/cluster.sh: a one-node SLURM cluster on localhost for tests (sourced), with the
# settings of HPC_NOTES.md: munge, slurmctld and slurmd run as root with every file under one
# temporary directory, and two fake GPUs (character devices) so --gpus-per-task is exercised.
#   source tests/slurm/cluster.sh; cluster_start DIR; ...; cluster_stop
# cluster_stop stops exactly the daemons cluster_start started, by PID. Needs root (CI is);
# installs slurmctld, slurmd, slurm-client and munge with apt when they are missing.

CLUSTER_PIDS=()

cluster_install() {
  local missing=()
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "cluster: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
}

cluster_start() {
  local dir=$1 ncpu port
  ncpu=$(nproc)
  port=${FREENAS_SLURM_PORT:-16817}
  mkdir -p "$dir/state" "$dir/spool"
  # munge: reuse a running munged that works, else start one (HPC_NOTES.md)
  if ! munge -n 2>/dev/null | unmunge > /dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged || { echo "cluster: munged did not start"; return 1; }
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    CLUSTER_PIDS+=("$(cat /run/munge/munged.pid)")
    munge -n | unmunge > /dev/null || { echo "cluster: munge does not work"; return 1; }
  fi
  cat > "$dir/slurm.conf" <<CONF
ClusterName=freenas-test
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
JobRequeue=1
ReturnToService=2
GresTypes=gpu
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SchedulerParameters=sched_interval=1
NodeName=localhost CPUs=$ncpu Sockets=1 CoresPerSocket=$ncpu ThreadsPerCore=1 RealMemory=1000 Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  printf 'NodeName=localhost Name=gpu File=/dev/null\nNodeName=localhost Name=gpu File=/dev/zero\n' \
    > "$dir/gres.conf"
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -i -D > "$dir/slurmctld.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  sleep 1
  slurmd -N localhost -D > "$dir/slurmd.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && { echo "cluster: localhost idle ($ncpu CPUs, 2 fake GPUs)"; return 0; }
    sleep 0.5
  done
  echo "cluster: node never became idle"; sinfo -N -l; tail -20 "$dir/slurmctld.log" "$dir/slurmd.log"
  return 1
}

cluster_stop() {
  local p
  for p in "${CLUSTER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}
