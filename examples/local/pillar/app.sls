{% set port = 8000 + 80 %}
app:
  name: demo
  port: {{ port }}
  packages:
{% for pkg in ['nginx', 'curl'] %}
    - {{ pkg }}
{% endfor %}
  os_family: {{ grains['os_family'] }}
