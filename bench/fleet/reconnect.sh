#!/bin/sh
# A master's memory through the two connect storms of a fleet (issue 19):
# N swarm minions (10,000) connecting to a new master (new keys, auto_accept),
# then the same master restarted under them (keys on disk): every minion
# reconnects and says hello at once, as after a master's restart or when a
# cluster master dies and its minions move. Prints each master's peak RSS
# (VmHWM: malloc keeps it) after a complete ping. Env: BRINE, N, PORT, RUNS.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
N=${N:-10000}
PORT=${PORT:-25400}
RUNS=${RUNS:-2}
W=$ROOT/bench/work/reconnect
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
hwm() { awk '/^VmHWM/ {print int($2/1024)}' "/proc/$1/status"; }
# ping CONFIG: until all N answer (60 s at most).
ping_all() {
  for i in $(seq 60); do
    [ "$("$BRINE" '*' test.ping -c "$1" -t 10 --out txt 2>/dev/null | grep -c ': True')" = "$N" ] && return 0
    sleep 1
  done
  echo "not all $N minions answered" >&2; return 1
}
echo "| run | first connect: peak RSS | restart under the fleet: peak RSS |"
echo "|---|---|---|"
for r in $(seq "$RUNS"); do
  rm -rf "$W"; mkdir -p "$W/m" "$W/s"
  printf "interface: 127.0.0.1\nret_port: %s\nroot_dir: %s/m\nauto_accept: True\n" "$PORT" "$W" > "$W/m/master"
  printf "id: s\nmaster: 127.0.0.1:%s\nroot_dir: %s/s\nacceptance_wait_time: 1\n" "$PORT" "$W" > "$W/s/minion"
  "$BRINE" master -c "$W/m" > "$W/m.log" 2>&1 & M=$!
  sleep 1
  "$BRINE" minion -c "$W/s" --swarm "$N" > "$W/s.log" 2>&1 & S=$!
  ping_all "$W/m"; first=$(hwm $M)
  kill $M; wait $M 2>/dev/null || true
  "$BRINE" master -c "$W/m" > "$W/m2.log" 2>&1 & M=$!
  ping_all "$W/m"; again=$(hwm $M)
  kill $S $M; wait 2>/dev/null || true
  echo "| $r | $first MiB | $again MiB |"
done
