#!/bin/sh
# Ask Salt 3008 (bench/.venv) and Brine the same question about a small tree:
#   bench/compat/oracle.sh STATES_DIR [PILLAR_DIR] -- FUNCTION [ARGS...]
# e.g. oracle.sh /tmp/t -- state.show_sls t --out=json
# Both run masterless with the fixed grains of grains.json, inside `unshare -n`.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common.sh"
states=$(cd "$1" && pwd); shift
pillar=""
if [ "${1:-}" != "--" ]; then pillar=$(cd "$1" && pwd); shift; fi
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d /tmp/brine-oracle.XXXXXX)
for tool in salt brine; do  # write_config sets $dir: keep ours in $work
    write_config "$work/$tool" "$states" "${pillar:-$work/no-pillar}"
    { echo "id: minion1"; printf 'grains: '; tr -d '\n' < "$HERE/grains.json"; echo; } >> "$work/$tool/minion"
done
unshare -n sh -c 'ip link set lo up; salt=$0 brine=$1 work=$2; shift 2
echo "--- salt"; PYTHONWARNINGS=ignore "$salt" --local -c "$work/salt" "$@" -l quiet; echo "(exit $?)"
echo "--- brine"; "$brine" call --local -c "$work/brine" "$@"; echo "(exit $?)"' \
    "$SALT_CALL" "$BRINE" "$work" "$@" 2>&1 || true
rm -rf "$work"
