#!/usr/bin/env bash
# A private one-node SLURM cluster on this host, for testing the SLURM profile for real.
#
#   bash tests/slurm/cluster.sh install    # as root: Debian's slurm-wlm, slurmdbd, munge, mariadb
#   bash tests/slurm/cluster.sh start DIR  # write configs under DIR and start the daemons
#   bash tests/slurm/cluster.sh stop DIR   # stop exactly the daemons `start` started (PID files)
#
# Everything lives under DIR (configs, spool, database, sockets, logs) and uses its own ports,
# so a machine's real SLURM or MariaDB, if any, is never touched. The snakemake SLURM executor
# polls job states with sacct, so accounting is on: slurmdbd backed by a private MariaDB.
# The node advertises four stand-in GPUs (gres backed by /dev files) so that the profile's
# `gpu: 1` requests are schedulable on a CPU-only host. Clients find the cluster through
# SLURM_CONF=DIR/etc/slurm.conf (printed by `start`).
set -euo pipefail

CTLD_PORT=16817
SLURMD_PORT=16818
DBD_PORT=16819
DB_PORT=16306
DB_PASS=ldbench-test
ACCOUNT=ldbench  # the only account; jobs must name it (associations are enforced)

log() { echo "[cluster.sh] $*" >&2; }

install() {
    [[ $(id -u) == 0 ]] || { log "install needs root (apt-get)"; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm slurmdbd munge mariadb-server >/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq $((seconds * 5))); do
        if timeout 10 "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    log "timed out after ${seconds}s waiting for $what"
    return 1
}

start() {
    local dir=$1
    [[ $(id -u) == 0 ]] || { log "start needs root (slurmd runs jobs as their users)"; exit 1; }
    for bin in munged slurmctld slurmd slurmdbd mariadbd sbatch sacct; do
        command -v "$bin" >/dev/null || { log "$bin not found: run '$0 install' first"; exit 1; }
    done
    mkdir -p "$dir"/{etc,log,run,spool/ctld,spool/d,mysql}
    dir=$(cd "$dir" && pwd)
    local host cpus mem
    host=$(hostname -s)
    # Declared, not real (SlurmdParameters=config_overrides): the profile's requests must fit,
    # and four jobs at once keep this host's cores busy. Smoke-config jobs use far less.
    cpus=64
    mem=$((512 * 1024))
    gpus=4

    # munge: Slurm's clients only look at the default socket, so use a munged already serving it
    # (all daemons here run on this one host, any key works) or start one there with a private key.
    if ! munge -n </dev/null >/dev/null 2>&1; then
        mungekey --create --keyfile="$dir/etc/munge.key" --force
        chmod 600 "$dir/etc/munge.key"
        mkdir -p /run/munge
        munged --force --key-file="$dir/etc/munge.key" --pid-file="$dir/run/munged.pid" \
            --log-file="$dir/log/munged.log" --seed-file="$dir/run/munge.seed"
        wait_for 10 munged munge -n
    fi

    # MariaDB on a private port and datadir, for slurmdbd
    if [[ ! -d $dir/mysql/mysql ]]; then
        mariadb-install-db --user=root --datadir="$dir/mysql" --auth-root-authentication-method=normal >"$dir/log/mariadb-install.log" 2>&1
    fi
    mariadbd --no-defaults --user=root --datadir="$dir/mysql" --port=$DB_PORT --bind-address=127.0.0.1 \
        --socket="$dir/run/mysql.sock" --pid-file="$dir/run/mariadbd.pid" --log-error="$dir/log/mariadbd.log" &
    wait_for 60 mariadb mariadb --no-defaults --socket="$dir/run/mysql.sock" -uroot -e "select 1"
    mariadb --no-defaults --socket="$dir/run/mysql.sock" -uroot -e "
        CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

    cat >"$dir/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
PidFile=$dir/run/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
EOF
    chmod 600 "$dir/etc/slurmdbd.conf"

    cat >"$dir/etc/slurm.conf" <<EOF
ClusterName=ldbenchtest
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStorageEnforce=associations
GresTypes=gpu
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:$gpus State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    # Stand-in device files: Slurm wants one file per GPU; nothing opens them.
    printf "NodeName=$host Name=gpu File=%s\n" /dev/null /dev/zero /dev/full /dev/urandom >"$dir/etc/gres.conf"

    # The SLURM executor deletes SLURM_* variables inside jobs (SLURM_CONF too), so the jobs'
    # srun must find the cluster at Slurm's default path: link our files there, never over others.
    mkdir -p /etc/slurm
    for name in slurm.conf gres.conf slurmdbd.conf; do
        local target=/etc/slurm/$name
        if [[ -e $target && ! -L $target ]]; then
            log "$target exists and is not ours: this host has its own SLURM configuration; refusing to shadow it"
            exit 1
        fi
        ln -sfn "$dir/etc/$name" "$target"
    done
    export SLURM_CONF=$dir/etc/slurm.conf
    slurmdbd
    wait_for 60 slurmdbd sacctmgr -i show cluster
    sacctmgr -i add cluster ldbenchtest >/dev/null 2>&1 || true
    sacctmgr -i add account "$ACCOUNT" Cluster=ldbenchtest >/dev/null 2>&1 || true
    sacctmgr -i add user "${SUDO_USER:-root}" Account="$ACCOUNT" Cluster=ldbenchtest >/dev/null 2>&1 || true
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF"
    wait_for 60 "node $host idle" bash -c "sinfo -h -N -o %t | grep -q idle"
    log "cluster up: export SLURM_CONF=$SLURM_CONF"
    echo "$SLURM_CONF"
}

stop() {
    local dir
    dir=$(cd "$1" && pwd)
    for daemon in slurmd slurmctld slurmdbd mariadbd munged; do
        local pidfile=$dir/run/$daemon.pid
        [[ -f $pidfile ]] || continue
        local pid
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
    for name in slurm.conf gres.conf slurmdbd.conf; do
        if [[ $(readlink "/etc/slurm/$name" 2>/dev/null) == "$dir/etc/$name" ]]; then rm -f "/etc/slurm/$name"; fi
    done
    log "cluster in $dir stopped"
}

case ${1:-} in
    install) install ;;
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
