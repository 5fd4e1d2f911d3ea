#!/bin/sh
# Salt 3008 and Brine render the same real formula trees; compare SLS by SLS.
#   bench/compat/run.sh [main|holdout|all] [compat.py options]
# Needs: bench/setup-salt.sh, a brine build (BRINE=..., default the release build),
# the formulas fetched into /work/.mirror (MIRROR=...) by the `fetch` tool, as
# saltstack-formulas+NAME-formula/repo bare repositories. Never commit the corpus.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common.sh"
check_tools
SET=${1:-main}; [ $# -gt 0 ] && shift
MIRROR=${MIRROR:-/work/.mirror}
CORPUS="$WORK/compat/corpus"
mkdir -p "$CORPUS"
# export_tree REPO DIR: HEAD's files (the snapshot may lack its largest blobs: skipped)
export_tree() {
    mkdir -p "$2.tmp"
    git --git-dir="$1" ls-tree -r HEAD | while read -r mode type object path; do
        [ "$type" = blob ] || continue
        mkdir -p "$2.tmp/$(dirname "$path")"
        if [ "$mode" = 120000 ]; then
            ln -s "$(git --git-dir="$1" cat-file blob "$object")" "$2.tmp/$path" 2>/dev/null || true
        else
            git --git-dir="$1" cat-file blob "$object" > "$2.tmp/$path" 2>/dev/null || rm -f "$2.tmp/$path"
        fi
    done
    mv "$2.tmp" "$2"
}
names=$(grep -v '^#' "$HERE/formulas.txt" | awk -v set="$SET" '$1 == set || set == "all" { for (i = 2; i <= NF; i++) print $i }')
list=""
for name in $names; do
    repo="$MIRROR/saltstack-formulas+$name-formula/repo"
    if [ ! -d "$CORPUS/$name" ]; then
        [ -d "$repo" ] || { echo "skip $name: no $repo (fetch github:saltstack-formulas/$name-formula)" >&2; continue; }
        export_tree "$repo" "$CORPUS/$name"
    fi
    list="$list${list:+,}$name"
done
export BRINE
exec unshare -n sh -c 'ip link set lo up && exec python3 "$0" "$@"' "$HERE/compat.py" --formulas "$list" "$@"
