"""Render template lines one by one with Salt 3008's Jinja environment.

    jinja_lines.py CONFIG_DIR LINES_FILE > OUT.jsonl

Each line of LINES_FILE is `label=template`; each is rendered on its own
(so one error does not hide the others) through `slsutil.renderer` with the
jinja renderer only, in one masterless Caller. Output, one JSON line each:
    {"label": L, "output": TEXT} or {"label": L, "error": TEXT}
lines.sh runs this beside Brine and compares.
"""
import json
import sys


def main():
    config_dir, lines_path = sys.argv[1], sys.argv[2]
    import salt.client
    import salt.config

    opts = salt.config.minion_config(config_dir + "/minion")
    caller = salt.client.Caller(mopts=opts)
    for line in open(lines_path, encoding="utf-8").read().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, template = line.partition("=")
        try:
            record = {"label": label, "output": caller.cmd("slsutil.renderer", string=template, default_renderer="jinja")}
        except BaseException as error:  # Salt raises SystemExit on some errors
            record = {"label": label, "error": "%s: %s" % (type(error).__name__, str(error).splitlines()[0] if str(error) else "")}
        print(json.dumps(record, default=repr), flush=True)


if __name__ == "__main__":
    main()
