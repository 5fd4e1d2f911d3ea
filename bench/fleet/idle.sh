#!/bin/sh
# Issue #5: memory of one real, idle `brine minion` (not --swarm) connected to a
# `brine master` on 127.0.0.1: idle after start and a test.ping, then idle
# after a state.apply of a small SLS. Prints VmRSS and the split
# from /proc/PID/smaps_rollup (anonymous vs file-backed, PSS), then which
# mapping holds the resident pages.
# Env: BRINE (release binary by default), MINION (the binary run as the minion,
# default $BRINE), PORT, IDLE (seconds idle before measuring, default 5),
# APPLIES (default 0): then that many state.applies of an SLS importing a map.jinja
# with macros, and a last row (memory that grows per run shows there).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
MINION=${MINION:-$BRINE}
PORT=${PORT:-45190}
IDLE=${IDLE:-5}
D=$ROOT/bench/work/idle
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run scripts/release)" >&2; exit 1; }
rm -rf "$D"; mkdir -p "$D/etc" "$D/m" "$D/srv/salt"
printf "interface: 127.0.0.1\nret_port: %s\nroot_dir: %s\nauto_accept: True\nfile_roots: {base: [%s/srv/salt]}\n" "$PORT" "$D" "$D" > "$D/etc/master"
printf "id: idle1\nmaster: 127.0.0.1\nmaster_port: %s\nroot_dir: %s/m\nacceptance_wait_time: 1\n" "$PORT" "$D" > "$D/m/minion"
printf "%s/m/hello:\n  file.managed:\n    - contents: hi {{ grains['id'] }}\n" "$D" > "$D/srv/salt/idle.sls"
cat > "$D/srv/salt/map.jinja" <<'EOM'
{% set defaults = {'greeting': 'hi', 'names': ['a', 'b', 'c']} %}
{% set cfg = {} %}{% do cfg.update(defaults) %}{% do cfg.update({'id': grains['id']}) %}
EOM
printf "{%% macro line(n) %%}hello {{ n }}{%% endmacro %%}\n" > "$D/srv/salt/macros.jinja"
cat > "$D/srv/salt/idle_map.sls" <<EOM
{% from 'map.jinja' import cfg with context %}{% import 'macros.jinja' as m %}
{% for n in cfg.names %}
$D/m/map-{{ n }}:
  file.managed:
    - contents: {{ m.line(n) }} {{ cfg.id }}
{% endfor %}
EOM
"$BRINE" master -c "$D/etc" >"$D/master.log" 2>&1 & MASTER=$!
MINIONPID=
trap 'kill $MINIONPID $MASTER 2>/dev/null || true' EXIT INT TERM PIPE
sleep 1
if [ "$MINION" = "$BRINE" ]; then "$MINION" minion -c "$D/m" >"$D/minion.log" 2>&1 & MINIONPID=$!
else "$MINION" -c "$D/m" >"$D/minion.log" 2>&1 & MINIONPID=$!; fi
for i in $(seq 60); do
  "$BRINE" idle1 test.ping -c "$D/etc" -t 5 --out txt 2>/dev/null | grep -q 'True' && break
  sleep 1
done
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$MINIONPID/$2"; }
mib() { awk -v v="$1" 'BEGIN {printf "%.1f MiB", v / 1024}'; }
row() {
  echo "| $1 | $(mib "$(kib VmRSS status)") | $(mib "$(kib Anonymous smaps_rollup)") | $(mib $(( $(kib Rss smaps_rollup) - $(kib Anonymous smaps_rollup) ))) | $(mib "$(kib Pss smaps_rollup)") |"
}
echo "minion: $MINION $([ "$MINION" = "$BRINE" ] && echo "minion (execs brine-minion when it sits beside it)") ($(du -m "$(readlink -f "$MINION")" | cut -f1) MiB)"
echo
echo "| idle after | VmRSS | anonymous | file-backed | PSS |"
echo "|---|---|---|---|---|"
sleep "$IDLE"
row "start + test.ping"
"$BRINE" idle1 state.apply idle -c "$D/etc" -t 30 --out quiet >/dev/null 2>&1 || { echo "state.apply failed" >&2; exit 1; }
sleep "$IDLE"
row "+ state.apply (file.managed, Jinja)"
APPLIES=${APPLIES:-0}
if [ "$APPLIES" -gt 0 ]; then
  for i in $(seq "$APPLIES"); do
    "$BRINE" idle1 state.apply idle_map -c "$D/etc" -t 30 --out quiet >"$D/apply.log" 2>&1 || { echo "state.apply idle_map failed, see $D/apply.log" >&2; exit 1; }
  done
  sleep "$IDLE"
  row "+ $APPLIES state.apply of idle_map (import with context, macros)"
fi
echo
echo "resident KiB by mapping:"
awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)} /^Rss:/ {rss[name] += $2} END {for (n in rss) if (rss[n] > 0) printf "%8d  %s\n", rss[n], n}' "/proc/$MINIONPID/smaps" | sort -rn | head -12
