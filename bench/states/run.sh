#!/bin/sh
# Benchmark 2 (issue #4): the state system on the tree from ../shared/bench/gen-tree.py
# (N file.managed + 1 file.directory + N/10 cmd.run with require/watch), N = 10 100 1000.
#   cold:     `state.apply` with the target directory removed before each run
#             (every state changes); caches are kept
#   warm:     `state.apply` again on an up-to-date target (nothing changes)
#   show_sls: `state.show_sls bench` (render and compile only)
# Salt and Brine use the same tree and pillar in the same run, each with its own
# masterless config/cache dir, inside a loopback-only network namespace.
# Brine's columns are skipped (n/a) while `brine call --local sys.list_functions state`
# does not list the function, so this script needs no change when state.* lands.
# Env: NS="10 100" (sizes), RUNS, WARMUP (defaults 3 and 1), TOOLS="salt brine", BRINE=path.
set -eu
RUNS=${RUNS:-3}
. "$(dirname "$0")/../common.sh"
check_tools
NS=${NS:-10 100 1000}
TOOLS=${TOOLS:-salt brine}
GEN=${GEN:-$ROOT/../shared/bench/gen-tree.py}

D="$WORK/states"
RES="$D/results.jsonl"
mkdir -p "$D"
: > "$RES"

brine_has() {  # brine_has FUN: does `sys.list_functions state` list FUN?
    out=$("$BRINE" call --local -c "$1" sys.list_functions state --out=json 2>/dev/null || true)
    printf '%s' "$out" | grep -q "\"$2\""
}

rows=""
for n in $NS; do
    T="$D/$n"
    python3 "$GEN" "$n" "$T" --force >/dev/null
    total=$((n + 1 + n / 10))
    for tool in $TOOLS; do
        write_config "$T/$tool" "$T/states" "$T/pillar"
        if [ "$tool" = salt ]; then
            call="$SALT_CALL --local -c $T/salt"
        else
            call="$BRINE call --local -c $T/brine"
        fi
        m() {  # m KIND FUN... (KIND: cold|warm|show_sls)
            kind=$1; shift
            case $kind in
                cold) before="rm -rf '$T/target'"; exp="Succeeded: $total (changed=$total)"; rej="Traceback" ;;
                warm) before=":"; exp="Succeeded: $total"; rej="changed=" ;;
                show_sls) before=":"; exp="f_$((n - 1))"; rej="Traceback" ;;
            esac
            $HARNESS measure --netns --runs "$RUNS" --warmup "$WARMUP" --out "$RES" \
                --label "N=$n $kind" --tool "$tool" --before "$before" \
                --expect "$exp" --reject "$rej" -- $call "$@" >/dev/null
        }
        for kind in ${KINDS:-cold warm show_sls}; do
            fun=state.apply; [ $kind = show_sls ] && fun=state.show_sls
            if [ "$tool" = brine ] && ! brine_has "$T/brine" "$fun"; then
                echo "brine: $fun not implemented yet: skipping N=$n $kind" >&2
                continue
            fi
            echo "measuring $tool N=$n $kind ..." >&2
            if [ $kind = show_sls ]; then m $kind state.show_sls bench; else m $kind state.apply; fi
        done
    done
    rows="$rows${rows:+,}N=$n cold,N=$n warm,N=$n show_sls"
done

echo "## State system: generated tree, \`state.apply\` / \`state.show_sls\`"
echo
describe_run
echo
$HARNESS table "$RES" --tools salt,brine --rows "$rows"
echo
echo "Raw runs: $RES"
