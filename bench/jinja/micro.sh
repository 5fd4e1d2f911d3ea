#!/bin/sh
# Jinja micro-benchmarks (issue #3): one construct per template (bench/jinja/micro/*.jinja),
# rendered N times per round by Python's Jinja2 and by Brine's Jinja (jinjadriver --each,
# the plain release executable bench/jinja/run.sh builds), ROUNDS alternating rounds; prints
# the best µs per render of each engine and the ratio python/swift (higher is better for
# Brine). Outputs are checked byte for byte against Jinja2's. Needs bench/jinja/run.sh to
# have generated and built bench/work/jinja/pkg (or run without SKIP_BUILD=1 to build it).
# Env: N (default 1000), ROUNDS (default 3), SKIP_BUILD=1, NAMES (default: all templates).
set -eu
. "$(dirname "$0")/../common.sh"
N=${N:-1000}
ROUNDS=${ROUNDS:-3}
PY="$BENCH/.venv/bin/python"
MICRO="$BENCH/jinja/micro"
RESDIR="$ROOT/Tests/JinjaTests/Resources/bench"
PKG="$WORK/jinja/pkg"
OUT="$WORK/jinja/micro"
mkdir -p "$OUT"
[ -x "$PY" ] || { echo "no $PY: run bench/setup-salt.sh (Salt pulls in Jinja2)" >&2; exit 1; }
[ -f "$PKG/Package.swift" ] || { echo "no $PKG: run bench/jinja/run.sh once" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    flock /tmp/swift-build.lock swift build -c release --package-path "$PKG" --scratch-path "$PKG/.build-driver" \
        --product jinjadriver > "$OUT/build.log" 2>&1 || { echo "driver build failed, see $OUT/build.log" >&2; exit 1; }
fi
DRIVER=$(flock /tmp/swift-build.lock swift build -c release --package-path "$PKG" --scratch-path "$PKG/.build-driver" --show-bin-path)/jinjadriver
NAMES=${NAMES:-$(cd "$MICRO" && ls *.jinja | tr '\n' ' ')}
: > "$OUT/py.txt"; : > "$OUT/swift.txt"
i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "round $i/$ROUNDS ..." >&2
    # shellcheck disable=SC2086
    "$PY" "$MICRO/micro.py" "$N" "$OUT" $NAMES >> "$OUT/py.txt"
    # shellcheck disable=SC2086
    "$DRIVER" --each "$MICRO" "$RESDIR" "$N" "$OUT" $NAMES >> "$OUT/swift.txt"
    i=$((i + 1))
done
for n in $NAMES; do
    cmp -s "$OUT/py-$n" "$OUT/swift-$n" || { echo "output of $n differs from Jinja2's ($OUT/py-$n, $OUT/swift-$n)" >&2; exit 1; }
done
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds of $N renders, best of each"
echo
python3 - "$OUT/py.txt" "$OUT/swift.txt" $NAMES <<'PY'
import sys
def best(path):
    d = {}
    for line in open(path):
        k, v = line.split()
        d[k] = min(d.get(k, float("inf")), float(v))
    return d
py, sw = best(sys.argv[1]), best(sys.argv[2])
print("| template | python µs | swift µs | python/swift |")
print("|---|---|---|---|")
for k in sys.argv[3:]:
    print(f"| {k} | {py[k]:.1f} | {sw[k]:.1f} | {py[k] / sw[k]:.2f}x |")
PY
