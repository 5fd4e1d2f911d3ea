#!/bin/sh
# Salt's side of the fleet benchmark: a salt-master (auto_accept) and N salt-minions,
# all inside one loopback-only network namespace, then `salt '*' test.ping` 5 times.
# Usage: bench/fleet/salt.sh N   (needs bench/setup-salt.sh; each minion is ~65 MiB)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-10}
W=$ROOT/bench/work/saltfleet
rm -rf "$W"; mkdir -p "$W/etc" "$W/states"
cat > "$W/etc/master" <<EOC
interface: 127.0.0.1
publish_port: 44505
ret_port: 44506
root_dir: $W
pidfile: var/run/salt-master.pid
pki_dir: etc/pki/master
cachedir: var/cache/salt/master
sock_dir: var/run/salt/master
log_file: var/log/salt/master
auto_accept: True
enable_fqdns_grains: False
file_roots:
  base:
    - $W/states
EOC
unshare -n sh "$ROOT/bench/fleet/salt-inside.sh" "$W" "$N"
# salt-minion daemons do not always exit on pkill inside the namespace
for p in $(pgrep -f "$W" || true); do kill -9 "$p" 2>/dev/null || true; done
