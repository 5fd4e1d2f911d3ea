#!/bin/sh
# Runs inside one loopback-only network namespace: salt-master, N salt-minions, timings.
set -u
W=$1; N=$2; V=$(cd "$(dirname "$0")/../.venv/bin" && pwd)
ip link set lo up
$V/salt-master -c $W/etc -d
sleep 5
i=0
while [ $i -lt $N ]; do
  d=$W/m$i
  mkdir -p $d
  cat > $d/minion <<EOC
id: m$i
master: 127.0.0.1
master_port: 44506
publish_port: 44505
root_dir: $d
pki_dir: pki
cachedir: cache
sock_dir: run
pidfile: run/minion.pid
log_file: log/minion
enable_fqdns_grains: False
EOC
  $V/salt-minion -c $d -d
  i=$((i+1))
done
# wait until all minions answer
for t in $(seq 90); do
  n=$($V/salt -c $W/etc '*' test.ping --out txt 2>/dev/null | grep -c True)
  [ "$n" = "$N" ] && break
  sleep 2
done
echo "answering: $n of $N"
for r in 1 2 3 4 5; do
  s=$(date +%s.%N); $V/salt -c $W/etc '*' test.ping --out quiet >/dev/null 2>&1; e=$(date +%s.%N)
  awk "BEGIN { printf \"%.3f\n\", $e - $s }"
done
ps -o rss=,cmd= -C salt-minion | head -1
pkill -f "salt-minion -c $W" ; pkill -f "salt-master -c $W"
