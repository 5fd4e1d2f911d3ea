web:
  group.present:
    - system: True
  user.present:
    - gid: web
    - home: /srv/web
    - createhome: True
    - shell: /usr/sbin/nologin
    - system: True
    - require:
      - group: web
