#!/bin/sh
# Benchmark (issue #6): the same web-server image (examples/build: a user,
# nginx from Debian's packages, templated files with pillar, the service
# started) built three ways in one run, in the same Docker engine:
#   brine     brine build examples/build/brine-build.yaml
#   docker    the equivalent Dockerfile (Dockerfile.web), docker build
#   seed      the seed's way: salt-minion (Salt 3008.4 from PyPI) in the base
#             image, salt-call --local state.sls in a container with the tree
#             mounted, docker commit, then a Dockerfile for CMD/EXPOSE
# For each: cold build, rebuild with nothing changed, rebuild after changing
# one SLS's template (the last step), and the image size. Medians of RUNS.
# Env: RUNS (3), BRINE (release binary by default), BASE image.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
RUNS=${RUNS:-3}
BASE=${BASE:-brine-demo/bookworm:minbase}
W=$ROOT/bench/work/build
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run bench/build-brine.sh)" >&2; exit 1; }
docker version >/dev/null 2>&1 || { echo "no Docker engine (scripts/engine starts one)" >&2; exit 1; }
"$BRINE" image bootstrap --if-missing "$BASE" >/dev/null

rm -rf "$W"; mkdir -p "$W"
cp -r "$ROOT/examples/build" "$W/brine"
sed -i "s#^from: .*#from: $BASE#; s#^image: .*#image: brine-bench/web:brine#" "$W/brine/brine-build.yaml"
mkdir -p "$W/docker"
cp "$ROOT/bench/build/Dockerfile.web" "$W/docker/Dockerfile"
sed -e 's/{{ port }}/8089/' -e '/^# Managed/d' "$ROOT/examples/build/salt/site/default.conf.j2" > "$W/docker/default.conf"
printf '<h1>Built by brine from states</h1>\n<p>Debian 12, nginx from Debian'"'"'s packages.</p>\n' > "$W/docker/index.html"

now() { date +%s.%N; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }
size() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f MiB", $1/1048576}'; }
timed() { s=$(now); "$@" >"$W/last.log" 2>&1 || { cat "$W/last.log" >&2; exit 1; }; e=$(now); awk "BEGIN { print $e - $s }"; }
touch_site() { echo "# change $(now)" >> "$1"; }

# brine
brine_build() { timed "$BRINE" build "$W/brine/brine-build.yaml" "$@"; }
bc=""; bn=""; bo=""
for r in $(seq "$RUNS"); do
  bc="$bc $(brine_build --no-cache)"
  bn="$bn $(brine_build)"
  touch_site "$W/brine/salt/site/index.html.j2"
  bo="$bo $(brine_build)"
done
brine_size=$(size brine-bench/web:brine)

# docker build
docker_build() { timed docker build --network host --build-arg BASE="$BASE" -t brine-bench/web:docker "$@" "$W/docker"; }
dc=""; dn=""; do_=""
for r in $(seq "$RUNS"); do
  dc="$dc $(docker_build --no-cache)"
  dn="$dn $(docker_build)"
  touch_site "$W/docker/index.html"
  do_="$do_ $(docker_build)"
done
docker_size=$(size brine-bench/web:docker)

# the seed's way
. "$ROOT/bench/salt-image.sh"
salt_base=$(timed make_salt_base)
seed_build() {
  docker rm -f brine-bench-seed >/dev/null 2>&1 || true
  docker run --name brine-bench-seed --network host -v "$W/brine/salt:/srv/salt:ro" -v "$W/brine/pillar:/srv/pillar:ro" \
    brine-bench/salt-minion:3008.4 /opt/salt/bin/salt-call --local --retcode-passthrough state.sls users,nginx,site \
    pillar='{"site": {"port": 8089, "message": "Built by brine from states"}}'
  docker commit brine-bench-seed brine-bench/web:seed-step
  printf 'FROM brine-bench/web:seed-step\nEXPOSE 8089\nCMD ["nginx", "-g", "daemon off;"]\n' \
    | docker build -t brine-bench/web:seed -
  docker rm -f brine-bench-seed
}
mkdir -p "$W/brine/pillar"
sc=""; so=""
for r in $(seq "$RUNS"); do
  sc="$sc $(timed seed_build)"
  touch_site "$W/brine/salt/site/index.html.j2"
  so="$so $(timed seed_build)"
done
seed_size=$(size brine-bench/web:seed)

dcm=$(echo "$dc" | median)
echo "| way | cold build | no-change rebuild | one-SLS change | image size | cold vs Dockerfile |"
echo "|---|---|---|---|---|---|"
for way in brine docker seed; do
  case $way in
    brine) c=$(echo "$bc" | median); n=$(echo "$bn" | median); o=$(echo "$bo" | median); z=$brine_size; label='`brine build`' ;;
    docker) c=$dcm; n=$(echo "$dn" | median); o=$(echo "$do_" | median); z=$docker_size; label='Dockerfile, `docker build`' ;;
    seed) c=$(echo "$sc" | median); n="$c (no cache)"; o=$(echo "$so" | median); z=$seed_size; label='seed: salt-minion in the image, commit' ;;
  esac
  echo "| $label | $c s | $n s | $o s | $z | $(awk "BEGIN { printf \"%.2fx\", $c / $dcm }") |"
done
echo
echo "salt-minion base image (once, not in the seed's times): $salt_base s, $(size brine-bench/salt-minion:3008.4); base $BASE: $(size "$BASE")"
