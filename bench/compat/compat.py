#!/usr/bin/env python3
"""Render real Salt formula trees with Salt 3008 and with Brine; compare SLS by SLS.

    compat.py [--formulas a,b,...] [--only-brine] [--show N] [--filter TEXT]

Run through run.sh (it re-executes this inside `unshare -n` and checks the
tools). For every formula of the corpus (bench/work/compat/corpus/NAME, a
checkout of a saltstack-formulas repository; see README.md here):

  * a masterless minion config: file_roots = the checkout, pillar_roots = a
    directory whose top file gives every minion the formula's pillar.example,
    the fixed Debian 12 grains of grains.json as the `grains` option, id minion1;
  * Salt: salt_show.py renders every SLS with `state.show_sls` in one process;
  * Brine: `brine call --local state.show_sls SLS --out=json`, a process per SLS;
  * the two answers are compared exactly, after dropping keys that start with
    `__` other than `__sls__` and `__env__` (Salt's bookkeeping).

Prints `N/M identical` (both render the same data, or both refuse the SLS),
then the differences grouped by cause, and writes every difference in full to
bench/work/compat/report.txt. Also prints the render time ratio (Salt's
in-process seconds per SLS against Brine's process per SLS).

Python 3 standard library only; Salt runs in its own venv.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
WORK = os.path.join(BENCH, "work", "compat")
CORPUS = os.path.join(WORK, "corpus")
SALT_PYTHON = os.path.join(BENCH, ".venv", "bin", "python")
BRINE = os.environ.get("BRINE") or os.path.join(ROOT, ".build-release", "release", "brine")

SKIP_DIRS = {"test", "tests", "docs", "bin", ".github", ".gitlab", "_modules", "_states", "_grains",
             "_utils", "_pillar", "_runners", "_renderers", "_formulas", "kitchen", "spec", "pillar"}


def formula_state_dirs(checkout):
    """Top-level directories of a formula checkout that hold its SLS files."""
    dirs = []
    for name in sorted(os.listdir(checkout)):
        path = os.path.join(checkout, name)
        if name.startswith(".") or name in SKIP_DIRS or not os.path.isdir(path):
            continue
        if any(f.endswith(".sls") for _, _, files in os.walk(path) for f in files):
            dirs.append(name)
    return dirs


def sls_names(checkout):
    """Every SLS name of the formula: a/b.sls -> a.b, a/init.sls -> a."""
    names = []
    for top in formula_state_dirs(checkout):
        for dirpath, dirnames, files in os.walk(os.path.join(checkout, top)):
            dirnames.sort()
            for f in sorted(files):
                if not f.endswith(".sls"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), checkout)[:-4]
                parts = rel.split(os.sep)
                if parts[-1] == "init":
                    parts = parts[:-1]
                if any("." in p for p in parts):   # not addressable as an SLS name
                    continue
                names.append(".".join(parts))
    return names


def pillar_candidates(checkout):
    """The formula's pillar.example, then its kitchen test pillars: many
    pillar.example files list alternatives under one key, which Salt's YAML
    loader refuses (duplicate keys), and then nothing could be compared."""
    found = [os.path.join(checkout, "pillar.example")]
    tests = os.path.join(checkout, "test", "salt", "pillar")
    if os.path.isdir(tests):
        files = sorted(f for f in os.listdir(tests) if f.endswith(".sls"))
        files.sort(key=lambda f: f != "default.sls")
        found += [os.path.join(tests, f) for f in files]
    return [f for f in found if os.path.isfile(f)] or [None]


def write_pillar(base, source):
    pillar = os.path.join(base, "pillar")
    text = open(source, encoding="utf-8").read() if source else ""
    with open(os.path.join(pillar, "example.sls"), "w", encoding="utf-8") as f:
        f.write(text)


def write_config(formula, checkout):
    """The minion config both tools read, and the pillar tree."""
    base = os.path.join(WORK, "run", formula)
    pillar = os.path.join(base, "pillar")
    os.makedirs(pillar, exist_ok=True)
    with open(os.path.join(pillar, "top.sls"), "w") as f:
        f.write("base:\n  '*':\n    - example\n")
    grains = json.load(open(os.path.join(HERE, "grains.json")))
    for tool in ("salt", "brine"):
        conf = os.path.join(base, tool)
        os.makedirs(conf, exist_ok=True)
        config = {
            "file_client": "local", "id": "minion1", "root_dir": conf,
            "pki_dir": "pki", "cachedir": "cache", "sock_dir": "run", "log_file": "log/minion",
            "file_roots": {"base": [checkout]}, "pillar_roots": {"base": [pillar]},
            "enable_fqdns_grains": False, "grains": grains,
        }
        with open(os.path.join(conf, "minion"), "w") as f:
            json.dump(config, f, indent=1)   # JSON is YAML; both tools read it
    return base


def strip_bookkeeping(value):
    """Drop `__*` keys other than __sls__/__env__, at every level."""
    if isinstance(value, dict):
        return {k: strip_bookkeeping(v) for k, v in value.items()
                if not (k.startswith("__") and k not in ("__sls__", "__env__"))}
    if isinstance(value, list):
        return [strip_bookkeeping(v) for v in value]
    return value


def canonical(result):
    """Exact comparison, key order included: JSON as the user sees it."""
    return json.dumps(strip_bookkeeping(result), ensure_ascii=False)


def run_salt(formula, base, names):
    out = os.path.join(base, "salt.jsonl")
    cmd = [SALT_PYTHON, os.path.join(HERE, "salt_show.py"), os.path.join(base, "salt"), out] + names
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    records = {}
    if os.path.exists(out):
        for line in open(out):
            r = json.loads(line)
            records[r["sls"]] = r
    for name in names:
        records.setdefault(name, {"sls": name, "error": "salt_show.py died: " + proc.stdout[-400:], "seconds": 0})
    return records, wall


def run_brine(base, name):
    cmd = [BRINE, "call", "--local", "-c", os.path.join(base, "brine"), "state.show_sls", name, "--out=json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    try:
        data = json.loads(proc.stdout)
        result = data.get("local", data) if isinstance(data, dict) else data
        return {"sls": name, "result": result, "seconds": seconds, "stderr": proc.stderr}
    except ValueError:
        text = (proc.stdout + proc.stderr).strip()
        return {"sls": name, "error": text or "exit %d, no output" % proc.returncode, "seconds": seconds}


def refused(record):
    """Whether a tool refused the SLS (an exception, or Salt's list of messages)."""
    return "error" in record or isinstance(record.get("result"), list) or isinstance(record.get("result"), str)


def message_of(record):
    if "error" in record:
        return record["error"]
    r = record.get("result")
    return "\n".join(map(str, r)) if isinstance(r, list) else str(r)


def first_difference(a, b, path=()):
    """The first path where a (Salt) and b (Brine) differ, and a short reason."""
    if type(a) is not type(b):
        return path, "type %s vs %s" % (type(a).__name__, type(b).__name__)
    if isinstance(a, dict):
        if list(a) != list(b):
            missing = [k for k in a if k not in b]
            extra = [k for k in b if k not in a]
            if missing or extra:
                return path, "keys: Salt only %s, Brine only %s" % (missing[:3], extra[:3])
        for k in a:
            if a[k] != b[k]:
                return first_difference(a[k], b[k], path + (k,))
        return path, "key order"
    if isinstance(a, list):
        if len(a) != len(b):
            return path, "list length %d vs %d" % (len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, path + (i,))
    return path, "value"


def cause(salt, brine):
    """A short label grouping a difference with others of the same cause."""
    if refused(brine) and not refused(salt):
        text = message_of(brine)
        text = re.sub(r"/\S+", "PATH", text)
        text = re.sub(r"'[^']*'", "'X'", text)
        text = re.sub(r"\d+", "N", text)
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        return "Brine refuses: " + " | ".join(lines[:2])[:160]
    if refused(salt) and not refused(brine):
        text = re.sub(r"\d+", "N", message_of(salt).splitlines()[0] if message_of(salt) else "")
        return "Salt refuses, Brine renders: " + text[:120]
    s, b = strip_bookkeeping(salt["result"]), strip_bookkeeping(brine["result"])
    path, reason = first_difference(s, b)
    shape = []
    for i, p in enumerate(path):
        if i == 0:
            shape.append("ID")
        elif isinstance(p, int):
            shape.append("[i]")
        else:
            shape.append(p if i <= 1 or not str(p).startswith("/") else "KEY")
    if len(path) >= 3 and isinstance(path[2], int):
        arg = s
        for p in path[:3]:
            arg = arg[p]
        if isinstance(arg, dict) and len(arg) == 1:
            shape.append(next(iter(arg)))
        elif isinstance(arg, str):
            shape.append("function")
    return "data: %s: %s" % ("/".join(map(str, shape[:5])), re.sub(r"\d+", "N", reason)[:80])


def salt_with_some_pillar(formula, base, checkout, names):
    """Salt's answers with the first pillar candidate Salt can render."""
    walls = 0.0
    for source in pillar_candidates(checkout):
        write_pillar(base, source)
        salt, wall = run_salt(formula, base, names)
        walls += wall
        if not all("Pillar failed to render" in salt[n].get("error", "") for n in names):
            break
    with open(os.path.join(base, "pillar-source"), "w") as f:
        f.write(source or "")
    return salt, source, walls


def reuse_salt(base, names):
    """Salt's answers from the last run, if it covered every SLS."""
    chosen, cached = os.path.join(base, "pillar-source"), os.path.join(base, "salt.jsonl")
    if not (os.path.exists(chosen) and os.path.exists(cached)):
        return None, None
    salt = {}
    for line in open(cached):
        record = json.loads(line)
        salt[record["sls"]] = record
    if not all(n in salt for n in names):
        return None, None
    source = open(chosen).read() or None
    write_pillar(base, source)
    return salt, source


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--formulas", default="")
    parser.add_argument("--reuse-salt", action="store_true",
                        help="use Salt's answers from the last run (only Brine renders again)")
    parser.add_argument("--show", type=int, default=3, help="examples printed per cause")
    args = parser.parse_args()

    formulas = [f for f in args.formulas.split(",") if f] or sorted(os.listdir(CORPUS))
    totals = Counter()
    causes = defaultdict(list)
    salt_seconds = brine_seconds = 0.0
    salt_walls = 0.0
    report = open(os.path.join(WORK, "report.txt"), "w")
    full = open(os.path.join(WORK, "differences.jsonl"), "w")
    per_formula = []
    pillar_used = {}
    for formula in formulas:
        checkout = os.path.join(CORPUS, formula)
        names = sls_names(checkout)
        if not names:
            continue
        base = write_config(formula, checkout)
        salt, source = (reuse_salt(base, names) if args.reuse_salt else (None, None))
        if salt is None:
            salt, source, wall = salt_with_some_pillar(formula, base, checkout, names)
            salt_walls += wall
        pillar_used[formula] = os.path.relpath(source, checkout) if source else "(none)"
        same = 0
        for name in names:
            brine = run_brine(base, name)
            s = salt[name]
            salt_seconds += s.get("seconds", 0)
            brine_seconds += brine["seconds"]
            totals["sls"] += 1
            if refused(s) and refused(brine):
                totals["both refuse"] += 1
                same += 1
                report.write("== %s %s: both refuse\n  salt: %s\n  brine: %s\n" % (
                    formula, name, message_of(s)[:300], message_of(brine)[:300]))
                continue
            if not refused(s) and not refused(brine) and \
                    canonical(s["result"]) == canonical(brine["result"]):
                totals["identical"] += 1
                same += 1
                continue
            label = cause(s, brine)
            causes[label].append("%s:%s" % (formula, name))
            report.write("== %s %s: %s\n" % (formula, name, label))
            full.write(json.dumps({"formula": formula, "sls": name, "cause": label,
                                   "salt": s, "brine": brine}) + "\n")
            report.write("  salt:  %s\n" % json.dumps(s.get("result", s.get("error")), sort_keys=False)[:3000])
            report.write("  brine: %s\n" % json.dumps(brine.get("result", brine.get("error")), sort_keys=False)[:3000])
        per_formula.append((formula, same, len(names)))
    report.close()
    full.close()

    n = totals["sls"]
    ok = totals["identical"] + totals["both refuse"]
    print("formulas: %d, SLS files: %d" % (len(per_formula), n))
    for formula, same, count in per_formula:
        print("  %-22s %3d/%-3d  pillar: %s" % (formula, same, count, pillar_used[formula]))
    print("%d/%d identical (%.1f%%): %d same data, %d refused by both" % (
        ok, n, 100.0 * ok / max(n, 1), totals["identical"], totals["both refuse"]))
    print("render time: Salt %.2f s in-process (%.1f ms/SLS), Brine %.2f s a process per SLS (%.1f ms/SLS): %.1fx" % (
        salt_seconds, 1000 * salt_seconds / max(n, 1), brine_seconds, 1000 * brine_seconds / max(n, 1),
        salt_seconds / max(brine_seconds, 1e-9)))
    print("Salt process wall time including start-up: %.2f s" % salt_walls)
    print("differences by cause (%d):" % (n - ok))
    for label, where in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        print("  %4d  %s" % (len(where), label))
        for w in where[:args.show]:
            print("          %s" % w)
    print("details: %s" % os.path.join(WORK, "report.txt"))


if __name__ == "__main__":
    main()
