{% set site = pillar['site'] %}
/etc/nginx/sites-available/default:
  file.managed:
    - source: salt://site/default.conf.j2
    - template: jinja
    - context:
        port: {{ site['port'] }}

/srv/web/index.html:
  file.managed:
    - source: salt://site/index.html.j2
    - template: jinja
    - user: web
    - group: web
    - mode: '0644'

nginx-running:
  service.running:
    - name: nginx
    - watch:
      - file: /etc/nginx/sites-available/default
