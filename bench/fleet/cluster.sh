#!/bin/sh
# Issue 19: masters sharing keys, jobs and returns through PostgreSQL
# (`cluster_database`), on this machine, all on 127.0.0.1.
#
# 1. One master at N1 swarm minions (10,000 by default), without and then
#    with cluster_database, in one run: the price of the database.
# 2. Three masters, N3 minions in all (30,000), three swarms of N3/3 whose
#    master lists start at a different master: `'*' test.ping` from the
#    first master reaches the minions of all three.
#
# For each: the CLI's wall time, publish-to-first-return and
# publish-to-last-return (from the CLI's start to its first and last
# line), p50 and p99 over RUNS runs; a run counts as complete only when
# every minion returned True once and the CLI exited 0; RSS of each master
# and, with the database, how many minions each holds.
# CPU seconds per run (user + system, averaged over the runs) of the
# masters (and each master), the swarms, PostgreSQL and the CLI: where the
# time goes on a shared machine.
# Env: N1 (10000), N3 (30000), RUNS (10), BRINE (release binary), PORT (25200),
# SETUPS ("one three": which parts to run), PGEXTRA (more postgres options, e.g.
# "-c shared_preload_libraries=pg_stat_statements" to see where its time goes).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
N1=${N1:-10000}
N3=${N3:-30000}
RUNS=${RUNS:-10}
PORT=${PORT:-25200}
SETUPS=${SETUPS:-one three}
PGEXTRA=${PGEXTRA:-}
WORK=$ROOT/bench/work/cluster
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run bench/build-brine.sh)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (PostgreSQL runs as the postgres user)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10,000 connections per process at most
rm -rf "$WORK"; mkdir -p "$WORK"
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A throwaway PostgreSQL: an ordinary role owning the database.
PGPORT=$((PORT + 50))
mkdir -p "$WORK/pg" && chown postgres: "$WORK/pg"
(cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null)
(cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -o "-k $WORK/pg -p $PGPORT -c listen_addresses=127.0.0.1 -c max_connections=200 $PGEXTRA" start >/dev/null)
(cd / && runuser -u postgres -- psql -h "$WORK/pg" -p "$PGPORT" -d postgres -q -c "CREATE ROLE brine LOGIN PASSWORD 'bench'" -c "CREATE DATABASE one OWNER brine" -c "CREATE DATABASE three OWNER brine")
# One database per setup: the keys of the first are not the second's minions.
# With PGEXTRA loading pg_stat_statements: its top statements over the timed runs, per setup.
pgstat() {
  case "$PGEXTRA" in *pg_stat_statements*) ;; *) return 0 ;; esac
  (cd / && runuser -u postgres -- psql -h "$WORK/pg" -p "$PGPORT" -d postgres -q -A -F ' | ' \
    -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "$1") >> "$WORK/pgstat.txt" 2>&1 || true
}
url() { echo "postgresql://brine:bench@127.0.0.1:$PGPORT/$1?sslmode=disable"; }

# master NAME PORT [DATABASE]: config and start (in a cluster with a database).
master() {
  d=$WORK/$1; mkdir -p "$d"
  printf "interface: 127.0.0.1\nret_port: %s\nroot_dir: %s\nauto_accept: True\nmaster_id: %s\n" "$2" "$d" "$1" > "$d/master"
  [ -n "${3:-}" ] && printf "cluster_id: bench\ncluster_pki_dir: %s/cluster-%s\ncluster_database: %s\n" "$WORK" "$3" "$(url "$3")" >> "$d/master"
  "$BRINE" master -c "$d" >"$d/master.log" 2>&1 &
  PIDS="$PIDS $!"
  eval "PID_$1=$!"
}

# swarm NAME COUNT PORT...: a swarm whose members try these masters in order.
swarm() {
  d=$WORK/$1; name=$1; n=$2; shift 2
  mkdir -p "$d"
  list=$(for p in "$@"; do printf "127.0.0.1:%s, " "$p"; done | sed 's/, $//')
  printf "id: %s\nmaster: [%s]\nmaster_type: failover\nroot_dir: %s\nacceptance_wait_time: 1\n" "$name" "$list" "$d" > "$d/minion"
  "$BRINE" minion -c "$d" --swarm "$n" >"$d/minion.log" 2>&1 &
  PIDS="$PIDS $!"
}

# measure LABEL CONFIGDIR N MASTERPIDS: RUNS timed pings, one table row.
measure() {
  label=$1; cfg=$2; n=$3; pids=$4
  for i in $(seq 180); do
    got=$("$BRINE" '*' test.ping -c "$cfg" -t 20 --out txt 2>/dev/null | grep -c ': True' || true)
    [ "$got" = "$n" ] && break
    sleep 2
  done
  : > "$WORK/times"
  complete=0
  swarms=$(pgrep -f -- "--swarm" | tr '\n' ' ')
  cpu_masters=$(cpu $pids); cpu_swarms=$(cpu $swarms); cpu_pg=$(pgcpu)
  cpu_each=""; for p in $pids; do cpu_each="$cpu_each $(cpu "$p")"; done
  pgstat "SELECT pg_stat_statements_reset()"
  for r in $(seq "$RUNS"); do
    rc=0
    python3 - "$BRINE" "$cfg" "$WORK/run.txt" >>"$WORK/times" <<'EOF' || rc=$?
import resource, subprocess, sys, time
brine, cfg, out = sys.argv[1:4]
start = time.monotonic(); first = last = None
with open(out, "w") as f:
    p = subprocess.Popen([brine, "*", "test.ping", "-c", cfg, "-t", "60", "--out", "txt"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        now = time.monotonic() - start
        if line.endswith(": True\n"):
            first = now if first is None else first
            last = now
        f.write(line)
    rc = p.wait()
cli = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.monotonic() - start:.3f} {first or 0:.3f} {last or 0:.3f} {cli.ru_utime + cli.ru_stime:.3f}")
sys.exit(rc)
EOF
    returned=$(grep -c ': True$' "$WORK/run.txt" || true)
    unique=$(grep ': True$' "$WORK/run.txt" | cut -d: -f1 | sort -u | wc -l)
    if [ "$rc" = 0 ] && [ "$returned" = "$n" ] && [ "$unique" = "$n" ]; then complete=$((complete + 1))
    else echo "$label run $r INCOMPLETE: rc=$rc, $returned returns ($unique distinct)" >&2; fi
  done
  echo "== $label" >> "$WORK/pgstat.txt"
  pgstat "SELECT calls, round(total_exec_time) AS ms, rows, regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12"
  pct() { sort -n | awk -v q="$1" '{a[NR]=$1} END {i=int(NR*q+0.999); if (i<1) i=1; printf "%.3f", a[i]}'; }
  wall50=$(cut -d' ' -f1 "$WORK/times" | pct 0.5)
  first50=$(cut -d' ' -f2 "$WORK/times" | pct 0.5); first99=$(cut -d' ' -f2 "$WORK/times" | pct 0.99)
  last50=$(cut -d' ' -f3 "$WORK/times" | pct 0.5); last99=$(cut -d' ' -f3 "$WORK/times" | pct 0.99)
  perrun() { echo "$1 $2 $RUNS" | awk '{printf "%.2f", ($1-$2)/$3}'; }  # NOW BEFORE: CPU seconds a run
  cpu_masters=$(perrun "$(cpu $pids)" "$cpu_masters")
  cpu_swarms=$(perrun "$(cpu $swarms)" "$cpu_swarms")
  cpu_pg=$(perrun "$(pgcpu)" "$cpu_pg")
  # Each master's share (when there are several), and the CLI's (its own process, each run).
  if [ "$(echo $pids | wc -w)" -gt 1 ]; then
    each=""; i=0
    for p in $pids; do i=$((i + 1)); each="$each${each:++}$(perrun "$(cpu "$p")" "$(echo $cpu_each | cut -d' ' -f$i)")"; done
    cpu_masters="$cpu_masters ($each)"
  fi
  cpu_cli=$(awk '{t += $4} END {printf "%.2f", t / NR}' "$WORK/times")
  rss=$(for p in $pids; do awk '/^VmRSS|^VmHWM/ {kb[$1] = $2} END {printf "%.0f (%.0f) ", kb["VmRSS:"]/1024, kb["VmHWM:"]/1024}' "/proc/$p/status"; done)
  # How the minions spread over the masters (a master's RSS is for its share).
  spread="-"
  [ -n "${5:-}" ] && spread=$(cd / && runuser -u postgres -- psql -h "$WORK/pg" -p "$PGPORT" -d "$5" -q -A -t -F ' ' \
    -c "SELECT master, count(*) FROM brine_minions WHERE master IS NOT NULL GROUP BY master ORDER BY master" | tr '\n' ' ')
  echo "| $label | $n ($got connected) | $wall50 s | $first50 / $first99 s | $last50 / $last99 s | $complete/$RUNS | $rss MiB | $spread | $cpu_masters / $cpu_swarms / $cpu_pg / $cpu_cli s |"
}

# pgcpu: PostgreSQL's CPU seconds so far: the postmaster with the backends it
# reaped (cutime/cstime) and those alive (a sum over live backends alone went
# negative when one ended between two readings).
pgcpu() {
  pm=$(head -1 "$WORK/pg/data/postmaster.pid")
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" '{pid = $1; sub(/.*\) /, "")
    if (pid == pm) t += $12 + $13 + $14 + $15; else if ($2 == pm) t += $12 + $13} END {printf "%.2f", t / hz}'
}

# cpu PID...: user + system CPU seconds of these processes so far.
cpu() {
  for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done | awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); t += $12 + $13} END {printf "%.2f", t / hz}'
}

echo "| setup | minions | wall p50 | first return p50 / p99 | last return p50 / p99 | complete runs | master RSS (peak) | minions per master | CPU a run: masters / swarms / PostgreSQL / CLI |"
echo "|---|---|---|---|---|---|---|---|---|"

# 1. One master, without and with the database.
case " $SETUPS " in *" one "*)
master solo "$PORT"
swarm s0 "$N1" "$PORT"
measure "one master" "$WORK/solo" "$N1" "$PID_solo"
for p in $PIDS; do kill "$p"; done; wait 2>/dev/null || true; PIDS=""
master one $((PORT + 1)) one
swarm s1 "$N1" $((PORT + 1))
measure "one master, cluster_database" "$WORK/one" "$N1" "$PID_one" one
for p in $PIDS; do kill "$p"; done; wait 2>/dev/null || true; PIDS=""
;; esac

# 2. Three masters (the first makes the cluster's key pair), N3 minions spread over them.
case " $SETUPS " in *" three "*)
A=$((PORT + 2)); B=$((PORT + 3)); C=$((PORT + 4))
master a "$A" three; sleep 2
master b "$B" three; master c "$C" three; sleep 1
third=$((N3 / 3))
swarm sa "$third" "$A" "$B" "$C"
swarm sb "$third" "$B" "$C" "$A"
swarm sc "$((N3 - 2 * third))" "$C" "$A" "$B"
measure "three masters, from the first" "$WORK/a" "$N3" "$PID_a $PID_b $PID_c" three
;; esac
