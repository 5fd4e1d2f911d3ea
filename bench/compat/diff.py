#!/usr/bin/env python3
"""Show one difference the last compat run recorded: the first differing path
with both sides around it.   diff.py FORMULA SLS   (or: diff.py CAUSE-SUBSTRING)"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compat import WORK, first_difference, strip_bookkeeping  # noqa: E402


def main():
    key = sys.argv[1:]
    for line in open(os.path.join(WORK, "differences.jsonl")):
        r = json.loads(line)
        if (len(key) == 2 and [r["formula"], r["sls"]] == key) or (len(key) == 1 and key[0] in r["cause"]):
            print("==", r["formula"], r["sls"], ":", r["cause"])
            s, b = r["salt"], r["brine"]
            if "result" in s and "result" in b and isinstance(s["result"], dict) and isinstance(b["result"], dict):
                sa, ba = strip_bookkeeping(s["result"]), strip_bookkeeping(b["result"])
                path, reason = first_difference(sa, ba)
                print("path:", list(path), reason)
                for p in path[:-1] if len(path) > 1 else path:
                    sa, ba = sa[p], ba[p]
                print("salt: ", json.dumps(sa)[:1500])
                print("brine:", json.dumps(ba)[:1500])
            else:
                print("salt: ", json.dumps(s.get("result", s.get("error")))[:1500])
                print("brine:", json.dumps(b.get("result", b.get("error")))[:1500])
            return


main()
