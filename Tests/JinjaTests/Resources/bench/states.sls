{% from 'map.jinja' import nginx with context %}
{% macro user_state(name, u) -%}
user_{{ name }}:
  user.present:
    - name: {{ name }}
    - uid: {{ u.uid }}
    - shell: {{ u.shell|default('/bin/bash') }}
    - groups: {{ u.groups|default([])|tojson }}
{%- if u.ssh_keys is defined %}
{{ name }}_keys:
  ssh_auth.present:
    - user: {{ name }}
    - names:
{%- for k in u.ssh_keys %}
      - {{ k|truncate(40) }}
{%- endfor %}
{%- endif %}
{%- endmacro %}

{{ nginx.pkg }}:
  pkg.installed:
    - name: {{ nginx.pkg }}
  service.running:
    - name: {{ nginx.service }}
    - enable: True
    - watch:
      - file: {{ nginx.config_dir }}/nginx.conf

{# block 0 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_0', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_0_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 0 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_0_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 0)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_0: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_0:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_0: {}
{% endif %}

{# block 1 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_1', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_1_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 1 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_1_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 1)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_1: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_1:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_1: {}
{% endif %}

{# block 2 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_2', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_2_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 2 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_2_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 2)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_2: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_2:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_2: {}
{% endif %}

{# block 3 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_3', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_3_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 3 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_3_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 3)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_3: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_3:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_3: {}
{% endif %}

{# block 4 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_4', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_4_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 4 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_4_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 4)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_4: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_4:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_4: {}
{% endif %}

{# block 5 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_5', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_5_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 5 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_5_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 5)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_5: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_5:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_5: {}
{% endif %}

{# block 6 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_6', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_6_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 6 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_6_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 6)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_6: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_6:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_6: {}
{% endif %}

{# block 7 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_7', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_7_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 7 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_7_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 7)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_7: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_7:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_7: {}
{% endif %}

{# block 8 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_8', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_8_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 8 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_8_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 8)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_8: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_8:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_8: {}
{% endif %}

{# block 9 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_9', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_9_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 9 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_9_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 9)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_9: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_9:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_9: {}
{% endif %}

{# block 10 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_10', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_10_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 10 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_10_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 10)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_10: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_10:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_10: {}
{% endif %}

{# block 11 #}
{% for name, u in pillar.get('users', {}).items() if not u.get('absent') %}
{{ user_state(name ~ '_11', u) }}
{% endfor %}
{% set pkgs = ['git', 'curl', 'vim', 'htop', 'tmux'] %}
{% for p in pkgs|sort %}
pkg_11_{{ p }}:
  pkg.installed:
    - name: {{ p|upper|lower }}
    - version: {{ versions.get(p, 'latest') }}
{%- if loop.last %}
    - order: {{ loop.index * 10 + 11 }}
{%- endif %}
{% endfor %}
{% for i in range(5) %}
file_11_{{ i }}:
  file.managed:
    - name: /etc/app/{{ '%02d'|format(i) }}.conf
    - mode: '0{{ 644 if i is even else 600 }}'
    - contents: {{ ('line ' ~ i ~ ' of ' ~ 11)|replace('line', 'row')|tojson }}
{% endfor %}
{% set ns = namespace(total=0) %}
{% for n in range(20) %}{% set ns.total = ns.total + n %}{% endfor %}
total_11: {{ ns.total }}
{% if grains.os_family == 'Debian' and block_enabled|default(true) %}
debian_only_11:
  cmd.run:
    - name: echo {{ grains.id }} {{ grains.os_family|lower }}
{% elif grains.os_family == 'RedHat' %}
rh_only_11: {}
{% endif %}

