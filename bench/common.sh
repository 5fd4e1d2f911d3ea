# Shared by bench/*/run.sh: paths, tool binaries, masterless config dirs.
# Source it: . "$(dirname "$0")/../common.sh"
BENCH=$(cd "$(dirname "$0")/.." && pwd)     # bench/ (run.sh lives in bench/<name>/)
ROOT=$(cd "$BENCH/.." && pwd)
WORK="$BENCH/work"                          # git-ignored
HARNESS="python3 $BENCH/harness.py"
SALT_CALL="$BENCH/.venv/bin/salt-call"
# BRINE=/path/to/brine overrides; default: the release build from build-brine.sh
BRINE=${BRINE:-$ROOT/.build-release/release/brine}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}

check_tools() {
    [ -x "$SALT_CALL" ] || { echo "no $SALT_CALL: run bench/setup-salt.sh" >&2; exit 1; }
    [ -x "$BRINE" ] || { echo "no $BRINE: run bench/build-brine.sh" >&2; exit 1; }
}

# write_config DIR STATES PILLAR: a masterless minion config in DIR/minion, with all
# relative paths under root_dir=DIR. Salt and Brine read the same file format; each
# tool gets its own DIR so that caches are not shared.
write_config() {
    dir=$1; states=$2; pillar=$3
    mkdir -p "$dir" "$states" "$pillar"
    cat > "$dir/minion" <<EOC
file_client: local
root_dir: $dir
pki_dir: pki
cachedir: cache
sock_dir: run
pidfile: run/minion.pid
log_file: log/minion
file_roots:
  base:
    - $states
pillar_roots:
  base:
    - $pillar
enable_fqdns_grains: False
EOC
}

# Machine and version notes for the results header.
describe_run() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), CPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "- salt: $("$SALT_CALL" --version 2>/dev/null) on $("$BENCH/.venv/bin/python" --version 2>&1)"
    if [ -f "$ROOT/.build-release/brine.commit" ] && [ "$BRINE" = "$ROOT/.build-release/release/brine" ]; then
        rev=$(sed -n 1p "$ROOT/.build-release/brine.commit"); dirty=$(sed -n 2p "$ROOT/.build-release/brine.commit")
    else
        rev="(HEAD now) $(git -C "$ROOT" rev-parse --short HEAD)"
        dirty=$(git -C "$ROOT" status --porcelain -- Sources Package.swift | wc -l)
    fi
    kind=""; [ "$BRINE" = "$ROOT/.build-release/release/brine" ] && kind=", release build, static Swift stdlib"
    echo "- brine: $BRINE ($(stat -c %s "$BRINE" | awk '{printf "%.1f MiB", $1/1048576}')$kind), built from commit $rev$( [ "${dirty:-0}" -gt 0 ] && echo " + $dirty uncommitted file(s) in Sources")"
    echo "- runs: $RUNS measured after $WARMUP warm-up, inside a loopback-only network namespace"
}
