#!/bin/sh
# Release build of brine (and brine-full, brine-minion) for benchmarking through scripts/release: own
# scratch dir (.build-release) so the debug build in .build is left alone. Also writes a
# stripped copy and records the commit.
# Always take /tmp/swift-build.lock: other builds share this machine.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# what is built: HEAD plus any uncommitted changes under Sources/Package.swift (another
# engineer may be editing the tree), taken before the build plans; a change during the
# build is reported (check the binary, e.g. with nm, before trusting the label)
before=$(git status --porcelain -- Sources Package.swift 2>/dev/null || true)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# scripts/release: lld, packed relocations, function sections, profile-ordered
# link of brine and brine-minion (see there)
sh scripts/release
BIN=$ROOT/.build-release/release/brine
strip -o "$ROOT/.build-release/brine-stripped" "$BIN"
# bench/common.sh prints this with the results
{ echo "$rev"; printf '%s' "$before" | grep -c . || true; } > "$ROOT/.build-release/brine.commit"
after=$(git status --porcelain -- Sources Package.swift 2>/dev/null || true)
[ "$(git rev-parse --short HEAD 2>/dev/null)" = "$rev" ] && [ "$after" = "$before" ] \
    || echo "warning: HEAD or Sources/Package.swift changed during the build; brine.commit records the state before it" >&2
ls -l "$BIN" "$ROOT/.build-release/brine-stripped"
