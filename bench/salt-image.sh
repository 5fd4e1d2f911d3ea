# Shared by bench/build/run.sh and bench/formulas/run.sh: the seed's base
# image, Salt 3008.4 from PyPI (salt-minion) in the Debian base $BASE,
# tagged brine-bench/salt-minion:3008.4. Made with run + commit so that this
# machine's egress CA (pip needs it here) is mounted, not copied into the
# image. timelib (a Salt dependency) has no wheel: gcc builds it, then is purged.
make_salt_base() {
  docker rm -f brine-bench-saltbase >/dev/null 2>&1 || true
  docker run --name brine-bench-saltbase --network host -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro \
    -e PIP_CERT=/run/host-ca.crt "$BASE" sh -c 'apt-get update \
      && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
      && python3 -m venv /opt/salt && /opt/salt/bin/pip install --no-cache-dir salt==3008.4 \
      && apt-get purge -y --autoremove python3-dev gcc libc6-dev && apt-get clean && rm -rf /var/lib/apt/lists/*'
  docker commit brine-bench-saltbase brine-bench/salt-minion:3008.4
  docker rm -f brine-bench-saltbase
}
