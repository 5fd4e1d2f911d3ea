# Ours: the formula writes its settings to /etc/default/sysstat.ini, which
# Debian's sysstat never reads; its own service.running then finds sadc
# disabled (Salt 3008.4 fails the same way). Point it at Debian's file.
sysstat:
  config_file: /etc/default/sysstat
