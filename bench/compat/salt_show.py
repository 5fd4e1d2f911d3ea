"""Salt 3008's `state.show_sls` for every SLS of one formula, in one process.

    salt_show.py CONFIG_DIR OUT.jsonl SLS [SLS ...]

Runs inside bench/.venv (Salt from PyPI) and inside `unshare -n` (run.sh does
both): Salt's grains and renderers do DNS look-ups. One masterless Caller is
built per formula, as a user's salt-call would see the tree; each SLS is
rendered by `state.show_sls` and written as one JSON line:
    {"sls": NAME, "seconds": S, "result": DATA}   the high data
    {"sls": NAME, "seconds": S, "error": TEXT}    an exception Salt raised
A list result is Salt's own "could not render" answer (a list of messages).
"""
import json
import sys
import time


def main():
    config_dir, out_path, slss = sys.argv[1], sys.argv[2], sys.argv[3:]
    import salt.client
    import salt.config

    opts = salt.config.minion_config(config_dir + "/minion")
    caller = salt.client.Caller(mopts=opts)
    with open(out_path, "w") as out:
        for sls in slss:
            started = time.perf_counter()
            try:
                result = caller.cmd("state.show_sls", sls)
                record = {"sls": sls, "result": result}
            except BaseException as error:  # Salt raises SystemExit on some errors
                record = {"sls": sls, "error": "%s: %s" % (type(error).__name__, error)}
            record["seconds"] = time.perf_counter() - started
            out.write(json.dumps(record, default=repr) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
