#!/bin/sh
# Benchmark 3 (issue #5): `brine '*' test.ping` over N minions served by one
# `brine minion --swarm N` process (like Salt's minionswarm), master with
# auto_accept, all on 127.0.0.1. Prints the median wall time of the CLI
# (start included), how many timed runs were complete (every minion returned, once,
# exit 0: figures stand only when all were) and the RSS of the master and the swarm.
# Env: NS="1000 10000", RUNS (5), BRINE (release binary by default), PORT.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
NS=${NS:-1000 10000}
RUNS=${RUNS:-5}
PORT=${PORT:-25100}  # below the ephemeral range: a swarm leaves thousands of ports in TIME_WAIT
WORK=$ROOT/bench/work/fleet
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run bench/build-brine.sh)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true

echo "| minions | test.ping median | min | max | complete runs | master RSS | swarm RSS |"
echo "|---|---|---|---|---|---|---|"
for n in $NS; do
  D=$WORK/$n
  rm -rf "$D"; mkdir -p "$D/etc" "$D/m"
  printf "interface: 127.0.0.1\nret_port: %s\nroot_dir: %s\nauto_accept: True\n" "$PORT" "$D" > "$D/etc/master"
  printf "id: sw\nmaster: 127.0.0.1\nmaster_port: %s\nroot_dir: %s/m\nacceptance_wait_time: 1\n" "$PORT" "$D" > "$D/m/minion"
  "$BRINE" master -c "$D/etc" >"$D/master.log" 2>&1 & MASTER=$!
  sleep 1
  "$BRINE" minion -c "$D/m" --swarm "$n" >"$D/minion.log" 2>&1 & SWARM=$!
  got=0
  for i in $(seq 120); do
    got=$("$BRINE" '*' test.ping -c "$D/etc" -t 10 --out txt 2>/dev/null | grep -c ': True' || true)
    [ "$got" = "$n" ] && break
    sleep 1
  done
  times=""
  complete=0
  for r in $(seq "$RUNS"); do
    # Every timed run is counted: a run counts as complete only when all N
    # minions returned True, each once, and the CLI exited 0 (issue 21).
    s=$(date +%s.%N)
    rc=0
    "$BRINE" '*' test.ping -c "$D/etc" -t 30 --out txt >"$D/run.txt" 2>"$D/run.err" || rc=$?
    e=$(date +%s.%N)
    times="$times $(awk "BEGIN { print $e - $s }")"
    returned=$(grep -c ': True$' "$D/run.txt" || true)
    unique=$(grep ': True$' "$D/run.txt" | cut -d: -f1 | sort -u | wc -l)
    if [ "$rc" = 0 ] && [ "$returned" = "$n" ] && [ "$unique" = "$n" ]; then
      complete=$((complete + 1))
    else
      echo "run $r at $n minions INCOMPLETE: rc=$rc, $returned returns ($unique distinct); $(tail -1 "$D/run.err")" >&2
    fi
  done
  stats=$(echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.3f s | %.3f s | %.3f s", a[int((NR+1)/2)], a[1], a[NR]}')
  mrss=$(ps -o rss= -p "$MASTER" | awk '{printf "%.1f MiB", $1/1024}')
  srss=$(ps -o rss= -p "$SWARM" | awk '{printf "%.1f MiB", $1/1024}')
  echo "| $n (connected: $got) | $stats | $complete/$RUNS | $mrss | $srss |"
  kill "$SWARM" "$MASTER" 2>/dev/null || true
  wait "$SWARM" "$MASTER" 2>/dev/null || true
done
