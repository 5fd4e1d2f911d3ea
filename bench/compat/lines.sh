#!/bin/sh
# Compare Salt 3008 and Brine on template lines, one render per line:
#   bench/compat/lines.sh LINES_FILE [--salt-only|--brine-only]
# LINES_FILE holds `label=template` lines. Prints each line whose output
# differs (or errors in one tool only), then `N/M identical`.
# BRINE=path picks the binary (default: the release build).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common.sh"
lines=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d /tmp/brine-lines.XXXXXX)
for tool in salt brine; do
    write_config "$work/$tool" "$work/states" "$work/pillar"
    { echo "id: minion1"; printf 'grains: '; tr -d '\n' < "$HERE/grains.json"; echo; } >> "$work/$tool/minion"
done
unshare -n sh -c 'ip link set lo up; PYTHONWARNINGS=ignore "$0" "$1" "$2/salt" "$3"' \
    "$BENCH/.venv/bin/python" "$HERE/jinja_lines.py" "$work" "$lines" > "$work/salt.jsonl" 2>/dev/null || true
grep -v '^#' "$lines" | grep -v '^ *$' | while IFS= read -r line; do
    label=${line%%=*}; template=${line#*=}
    out=$("$BRINE" call --local -c "$work/brine" slsutil.renderer "string=$template" default_renderer=jinja --out=json 2>&1) \
        && printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"label": sys.argv[1], "output": d.get("local", d)}))' "$label" \
        || python3 -c 'import json,sys; print(json.dumps({"label": sys.argv[1], "error": sys.argv[2]}))' "$label" "$out"
done > "$work/brine.jsonl"
python3 - "$work/salt.jsonl" "$work/brine.jsonl" <<'PY'
import json, sys
salt = {r["label"]: r for r in map(json.loads, open(sys.argv[1]))}
brine = {r["label"]: r for r in map(json.loads, open(sys.argv[2]))}
same = 0
for label, s in salt.items():
    b = brine.get(label, {"error": "missing"})
    if s == b or ("error" in s and "error" in b):
        same += 1
        continue
    print("%s\n  salt:  %s\n  brine: %s" % (label, s.get("output", "ERROR " + s.get("error", "")), b.get("output", "ERROR " + b.get("error", ""))))
print("%d/%d identical" % (same, len(salt)))
PY
rm -rf "$work"
