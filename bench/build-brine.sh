#!/bin/sh
# Release build of brine for benchmarking: static Swift stdlib, own scratch dir
# (.build-release) so the debug build in .build is left alone. Also writes a stripped copy.
# Always take /tmp/swift-build.lock: other builds share this machine.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
flock /tmp/swift-build.lock swift build -c release --product brine \
    --static-swift-stdlib --scratch-path .build-release
BIN=$(flock /tmp/swift-build.lock swift build -c release --product brine \
    --static-swift-stdlib --scratch-path .build-release --show-bin-path)/brine
strip -o "$ROOT/.build-release/brine-stripped" "$BIN"
# what was built: HEAD plus any uncommitted changes under Sources (another engineer may
# be editing the tree); bench/common.sh prints this with the results
{ git rev-parse --short HEAD; git status --porcelain -- Sources Package.swift | wc -l; } \
    > "$ROOT/.build-release/brine.commit" 2>/dev/null || true
ls -l "$BIN" "$ROOT/.build-release/brine-stripped"
