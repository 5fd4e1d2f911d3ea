#!/bin/sh
# Benchmark 1 (issue #2): process start. brine call --local vs salt-call --local,
# same masterless config, both inside a loopback-only network namespace.
# Prints a markdown table (medians; ratio Salt/Brine). RUNS=N WARMUP=N BRINE=path override.
set -eu
. "$(dirname "$0")/../common.sh"
check_tools

D="$WORK/start"
RES="$D/results.jsonl"
mkdir -p "$D"
: > "$RES"
for tool in salt brine; do
    write_config "$D/$tool" "$D/srv/salt" "$D/srv/pillar"
done

m() {  # m LABEL TOOL EXPECT CMD...
    label=$1; tool=$2; expect=$3; shift 3
    $HARNESS measure --netns --runs "$RUNS" --warmup "$WARMUP" --out "$RES" \
        --label "$label" --tool "$tool" ${expect:+--expect "$expect"} -- "$@" >/dev/null
}

m "harness floor (/bin/true)" floor "" true
for row in "test.ping|True|test.ping" \
           "grains.items|kernel|grains.items" \
           "cmd.run 'echo hi'|hi|cmd.run|echo hi"; do
    label=${row%%|*}; rest=${row#*|}; expect=${rest%%|*}; rest=${rest#*|}
    fun=${rest%%|*}; arg=""; [ "$fun" != "$rest" ] && arg=${rest#*|}
    if [ -n "$arg" ]; then
        m "$label" salt "$expect" "$SALT_CALL" --local -c "$D/salt" "$fun" "$arg"
        m "$label" brine "$expect" "$BRINE" call --local -c "$D/brine" "$fun" "$arg"
    else
        m "$label" salt "$expect" "$SALT_CALL" --local -c "$D/salt" "$fun"
        m "$label" brine "$expect" "$BRINE" call --local -c "$D/brine" "$fun"
    fi
done

echo "## Process start: \`call --local\`"
echo
describe_run
echo
$HARNESS table "$RES" --tools salt,brine --rows "test.ping,grains.items,cmd.run 'echo hi'"
floor=$(python3 -c "import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r['tool']=='floor': print('%.1f ms, %.1f MiB' % (r['wall_median_s']*1000, r['rss_median_mib']))" "$RES")
echo
echo "Harness floor (\`/bin/true\` through the same path): $floor. Raw runs: $RES"
