#!/bin/sh
# Issue 16's proof: container images built from real community formulas.
# For each formula in formulas.txt (fetched by the `fetch` tool into
# /work/.mirror as saltstack-formulas+NAME-formula; never committed):
#   1. `brine build` from a Debian bookworm minbase with the formula's states
#      and its pillar.example as pillar (cold: --no-cache), timed;
#   2. the check from formulas.txt inside the image (--network none): what the
#      software itself says (config test, the service answering);
#   3. the same states applied again on the built image: how many changed
#      (a service.running that starts its service again is counted apart:
#      nothing runs in a fresh container of an image).
# With SALT=a,b, the same formulas are also built the seed's way in the same
# run: Salt 3008.4 (from PyPI) in the base image, salt-call --local state.sls,
# docker commit; time and image size side by side.
# Env: BRINE (release binary by default), BASE, MIRROR, ONLY=a,b, SALT=a,b.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/formulas
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
BASE=${BASE:-brine-demo/bookworm:minbase}
MIRROR=${MIRROR:-/work/.mirror}
ONLY=${ONLY:-}
SALT=${SALT:-}
W=$ROOT/bench/work/formulas
[ -x "$BRINE" ] || { echo "no brine binary at $BRINE (run bench/build-brine.sh)" >&2; exit 1; }
docker version >/dev/null 2>&1 || { echo "no Docker engine (scripts/engine starts one)" >&2; exit 1; }
"$BRINE" image bootstrap --if-missing "$BASE" >/dev/null
mkdir -p "$W"

now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }
mib() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f", $1/1048576}'; }
base_mib=$(mib "$BASE")
listed() { [ -z "$1" ] || case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

# The formula's tree and pillar in $W/NAME: salt/<formula dirs>, pillar/{top,NAME}.sls.
prepare() { # name sls pillar-file
  name=$1; sls=$2; pillar=${3:-pillar.example}; repo=$MIRROR/saltstack-formulas+$name-formula/repo
  [ -d "$repo/.git" ] && repo=$repo/.git
  [ -d "$repo" ] || { echo "skip $name: no $repo (fetch github:saltstack-formulas/$name-formula)" >&2; return 1; }
  d=$W/$name; rm -rf "$d"; mkdir -p "$d/salt" "$d/pillar"
  for s in $(echo "$sls" | tr ',' ' '); do
    top=${s%%.*}; [ -d "$d/salt/$top" ] || git --git-dir="$repo" archive HEAD "$top" | tar -x -C "$d/salt"
  done
  git --git-dir="$repo" show "HEAD:$pillar" > "$d/pillar/formula.sls"
  printf "base:\n  '*':\n    - formula\n" > "$d/pillar/top.sls"
  # Our own overrides (bench/formulas/pillar/NAME.sls) win over the example.
  if [ -f "$HERE/pillar/$name.sls" ]; then
    cp "$HERE/pillar/$name.sls" "$d/pillar/overrides.sls"; printf "    - overrides\n" >> "$d/pillar/top.sls"
  fi
  printf 'from: %s\nimage: brine-bench/formula-%s:brine\nid: formula-%s\nsls: [%s]\nlayers: single\n' \
    "$BASE" "$name" "$name" "$sls" > "$d/brine-build.yaml"
  printf 'from: brine-bench/formula-%s:brine\nimage: brine-bench/formula-%s:again\nid: formula-%s\nsls: [%s]\nlayers: single\n' \
    "$name" "$name" "$name" "$sls" > "$d/again.yaml"
}

. "$ROOT/bench/salt-image.sh"
salt_base() {
  docker image inspect brine-bench/salt-minion:3008.4 >/dev/null 2>&1 || make_salt_base >&2
}

# The seed's way: salt-call in a container of the Salt base image, commit.
seed_build() { # name sls
  c=brine-bench-seed-$1; docker rm -f "$c" >/dev/null 2>&1 || true
  docker run --name "$c" --network host -v "$W/$1/salt:/srv/salt:ro" -v "$W/$1/pillar:/srv/pillar:ro" \
    brine-bench/salt-minion:3008.4 /opt/salt/bin/salt-call --local --retcode-passthrough --state-output=terse state.sls "$2" \
    > "$W/$1/seed.log" 2>&1 || { docker rm -f "$c" >/dev/null; return 1; }
  docker commit "$c" "brine-bench/formula-$1:seed" >/dev/null
  docker rm -f "$c" >/dev/null
}

rows=""; seed_rows=""
while IFS='|' read -r name sls pillar check; do
  name=$(echo "$name" | tr -d ' '); sls=$(echo "$sls" | tr -d ' '); pillar=$(echo "$pillar" | tr -d ' ')
  case $name in ''|'#'*) continue ;; esac
  listed "$ONLY" "$name" || continue
  prepare "$name" "$sls" "$pillar" || continue
  d=$W/$name
  echo "== $name" >&2
  s=$(now)
  if "$BRINE" build --no-cache --no-color "$d/brine-build.yaml" > "$d/build.log" 2>&1; then
    t=$(since "$s"); states=$(grep -cE '^    (changed|ok     ) ' "$d/build.log" || true)
    if out=$(docker run --rm --network none --entrypoint bash "brine-bench/formula-$name:brine" -c "$check" 2>&1); then
      said=$(echo "$out" | grep . | tail -1 | cut -c1-70); verdict=passed
    else
      said=$(echo "$out" | grep . | tail -1 | cut -c1-70); verdict="check FAILED"
    fi
    if "$BRINE" build --no-cache --no-color "$d/again.yaml" > "$d/again.log" 2>&1; then
      # A fresh container runs nothing: service.running starts the service again.
      again="$(grep -E '^    changed ' "$d/again.log" | grep -cv ' service.running ' || true) changed"
      starts=$(grep -cE '^    changed service.running ' "$d/again.log" || true)
      [ "$starts" = 0 ] || again="$again (+$starts service start)"
    else again="failed (again.log)"; fi
    size=$(awk "BEGIN { printf \"%.1f\", $(mib "brine-bench/formula-$name:brine") - $base_mib }")
    rows="$rows| $name | $states | built | $verdict: \`$(echo "$said" | tr '|`' '/'"'")\` | $again | $t s | +$size MiB |
"
  else
    t=$(since "$s"); why=$(grep -E 'Comment:|error|Error' "$d/build.log" | head -1 | sed 's/^ *//' | cut -c1-90 | tr '|`' '/'"'")
    rows="$rows| $name | - | FAILED | \`$why\` | - | $t s | - |
"
  fi
  if listed "${SALT:-none}" "$name" && [ -n "$SALT" ]; then
    salt_base
    s=$(now)
    if seed_build "$name" "$sls"; then
      st=$(since "$s"); ssize=$(awk "BEGIN { printf \"%.1f\", $(mib "brine-bench/formula-$name:seed") - $base_mib }")
      seed_rows="$seed_rows| $name | $t s | $st s | $(awk "BEGIN { printf \"%.2fx\", $t / $st }") | +$size MiB | +$ssize MiB |
"
    else seed_rows="$seed_rows| $name | $t s | failed (seed.log) | - | +$size MiB | - |
"; fi
  fi
done < "$HERE/formulas.txt"

echo "| formula | states | brine build | check inside the image | applied again | cold build | image over base |"
echo "|---|---|---|---|---|---|---|"
printf '%s' "$rows"
if [ -n "$seed_rows" ]; then
  echo
  echo "| formula | brine build | seed: salt-call in the image + commit | brine / seed | brine image over base | seed image over base |"
  echo "|---|---|---|---|---|---|"
  printf '%s' "$seed_rows"
  echo
  echo "Salt base image (once, not in the seed's times): +$(awk "BEGIN { printf \"%.1f\", $(mib brine-bench/salt-minion:3008.4) - $base_mib }") MiB over $BASE"
fi
