#!/bin/sh
# Install Salt 3008.4 (the side-by-side peer) into bench/.venv. Idempotent.
# 3008.5 needs a newer certifi than the package registry here serves, so pin 3008.4.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENV="$HERE/.venv"
SALT_VERSION=3008.4
PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3.11 || command -v python3)

# The mysql_* states left Salt's core for saltext-mysql; with mysqlclient
# (MySQLdb, the client Salt prefers: with PyMySQL Salt's mysql.query fails on
# its `conv` argument) they are the oracle for Brine's mysql states (issue 17).
# --no-deps: it must not move Salt off 3008.4.
# The docker_* states likewise live in saltext-dockermod (with docker-py).
extensions() {
    "$VENV/bin/python" -c 'import saltext.mysql, MySQLdb, saltext.dockermod, docker' 2>/dev/null && return
    dpkg-query -W libmariadb-dev pkg-config >/dev/null 2>&1 || apt-get install -y -q libmariadb-dev pkg-config
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-deps saltext.mysql==1.1.0 mysqlclient saltext-dockermod==0.1.3 docker
}
if [ -x "$VENV/bin/salt-call" ] && \
   [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("salt"))' 2>/dev/null)" = "$SALT_VERSION" ]; then
    extensions
    echo "salt $SALT_VERSION already installed in $VENV"
    exit 0
fi
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get install -y python3.11-venv
fi
[ -x "$VENV/bin/pip" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check -q "salt==$SALT_VERSION"
extensions
"$VENV/bin/salt-call" --version
