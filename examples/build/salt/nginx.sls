nginx:
  pkg.installed:
    - refresh: True
    - install_recommends: False

# What a Dockerfile's "rm -rf /var/lib/apt/lists/*" does, once the package is in.
apt-clean:
  cmd.run:
    - name: apt-get clean && rm -rf /var/lib/apt/lists/*
    - onchanges:
      - pkg: nginx
