#!/bin/bash
# Soak (issue 21): N swarm minions (default 10,000, in two processes: three
# quarters and one quarter), PINGS `test.ping` and APPLIES `state.apply` of a
# small SLS to '*', every return counted; then the fault round: SIGKILL the
# quarter's process in the middle of a state.apply to the whole fleet (the
# rest must complete, the killed ones must be named), restart it, and the next
# job must reach all. Prints
#   jobs J, returns expected E, received R, lost L, duplicates D
# and the master's RSS at the start and the end. Loopback only; it stops by
# itself (each job has a timeout; the whole run is bounded by the job counts).
# Env: N (10000), PINGS (200), APPLIES (20), BRINE (release binary), PORT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
N=${N:-10000}
PINGS=${PINGS:-200}
APPLIES=${APPLIES:-20}
PORT=${PORT:-25200}
WORK=$ROOT/bench/work/soak
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run bench/build-brine.sh)" >&2; exit 1; }
QUARTER=$((N / 4))
REST=$((N - QUARTER))

rm -rf "$WORK"; mkdir -p "$WORK/etc" "$WORK/a" "$WORK/b" "$WORK/srv/soak"
cat > "$WORK/etc/master" <<EOF
interface: 127.0.0.1
ret_port: $PORT
root_dir: $WORK
auto_accept: True
file_roots: {base: [$WORK/srv]}
EOF
for s in a b; do
  printf "id: %s\nmaster: 127.0.0.1\nmaster_port: %s\nroot_dir: %s/%s\nacceptance_wait_time: 1\n" "$s" "$PORT" "$WORK" "$s" > "$WORK/$s/minion"
done
# Small and real: a file per minion under its own root, rendered with its id.
cat > "$WORK/srv/soak/init.sls" <<'EOF'
soak_file:
  file.managed:
    - name: /tmp/brine-soak/{{ grains['id'] }}
    - contents: "soak {{ grains['id'] }}"
    - makedirs: True
EOF

"$BRINE" master -c "$WORK/etc" >"$WORK/master.log" 2>&1 & MASTER=$!
sleep 1
"$BRINE" minion -c "$WORK/a" --swarm "$REST" >"$WORK/a.log" 2>&1 & SWARM_A=$!
"$BRINE" minion -c "$WORK/b" --swarm "$QUARTER" >"$WORK/b.log" 2>&1 & SWARM_B=$!
cleanup() { kill "$SWARM_A" "$SWARM_B" "$MASTER" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf /tmp/brine-soak; }
trap cleanup EXIT

run() { "$BRINE" '*' "$@" -c "$WORK/etc" --out txt 2>"$WORK/err.txt" || true; }
# Waits until every minion answers (at most 5 minutes).
for _ in $(seq 150); do
  [ "$(run test.ping -t 20 | grep -c ': True$' || true)" = "$N" ] && break
  sleep 2
done
rss() { ps -o rss= -p "$MASTER" | awk '{printf "%.1f MiB", $1/1024}'; }
RSS_START=$(rss)

jobs=0 expected=0 received=0 lost=0 duplicates=0
# One job's output: "returned named duplicates". Returns are lines "id: True"
# (test.ping) or "id: {…}" with no False result (state.apply, --out txt);
# "Minion did not return" names a minion that did not.
tally() {
  local out=$1 want=$2 got dup
  if [ "$want" = ping ]; then
    got=$(grep -c ': True$' "$out" || true)
    dup=$(grep ': True$' "$out" | cut -d: -f1 | sort | uniq -d | wc -l)
  else
    got=$(grep -E "^[a-z]+-[0-9]+: \{" "$out" | grep "'result': True" | grep -vc "'result': False" || true)
    dup=$(grep -E "^[a-z]+-[0-9]+: \{" "$out" | cut -d: -f1 | sort | uniq -d | wc -l)
  fi
  echo "$got $(grep -c 'Minion did not return' "$out" || true) $dup"
}
# Counts one job into the totals (in this shell: tally runs in a subshell).
count() {
  jobs=$((jobs + 1)); expected=$((expected + N)); received=$((received + $1))
  lost=$((lost + N - $1 - $2)); duplicates=$((duplicates + $3))
}

start=$(date +%s)
for i in $(seq "$PINGS"); do
  run test.ping -t 30 > "$WORK/job.txt"
  read -r got miss dup < <(tally "$WORK/job.txt" ping)
  count "$got" "$miss" "$dup"
  [ "$got" = "$N" ] || echo "ping $i: $got returned, $miss named" >&2
  [ $((i % 50)) = 0 ] && echo "after $i pings: master RSS $(rss)"
  if [ $((i % (PINGS / APPLIES > 0 ? PINGS / APPLIES : 1))) = 0 ] && [ "$APPLIES" -gt 0 ]; then
    run state.apply soak -t 120 > "$WORK/job.txt"
    read -r got miss dup < <(tally "$WORK/job.txt" apply)
    count "$got" "$miss" "$dup"
    [ "$got" = "$N" ] || echo "state.apply after ping $i: $got succeeded, $miss named" >&2
  fi
done
echo "steady: $(( $(date +%s) - start )) s"

# The fault round: kill -9 a quarter during a state.apply to all.
"$BRINE" '*' test.sleep 4 -c "$WORK/etc" -t 60 --out txt >"$WORK/fault.txt" 2>/dev/null & JOB=$!
sleep 2
kill -9 "$SWARM_B"
wait "$SWARM_B" 2>/dev/null || true
rc=0; wait "$JOB" || rc=$?
fault_ok=$(grep -c ': True$' "$WORK/fault.txt" || true)
fault_named=$(grep -c 'Minion did not return' "$WORK/fault.txt" || true)
echo "fault: exit $rc, $fault_ok returned (expected $REST), $fault_named named (expected $QUARTER)"
"$BRINE" minion -c "$WORK/b" --swarm "$QUARTER" >"$WORK/b2.log" 2>&1 & SWARM_B=$!
for _ in $(seq 60); do
  [ "$(run test.ping -t 20 | grep -c ': True$' || true)" = "$N" ] && break
  sleep 2
done
run test.ping -t 30 > "$WORK/job.txt"
read -r got miss dup < <(tally "$WORK/job.txt" ping)
count "$got" "$miss" "$dup"
echo "after restart: $got of $N returned"

echo "jobs $jobs, returns expected $expected, received $received, lost $lost, duplicates $duplicates"
echo "master RSS: start $RSS_START, end $(rss)"
