#!/usr/bin/env python3
"""Side-by-side benchmark harness (Python 3 standard library only).

    harness.py measure [options] -- CMD [ARG ...]
        Runs CMD --warmup times (not counted), then --runs times, each time with
        posix_spawn and os.wait4, and measures wall time and the child's peak RSS
        (ru_maxrss: the largest resident set of the process and of any descendant
        it waited for -- not a sum over processes; taken through GNU time when
        present, see run_once). Prints one JSON record and appends it to --out.

        --netns      re-run the whole harness once inside a fresh network namespace
                     that only has loopback (unshare -n; ip link set lo up), so the
                     measured commands cannot reach the network (Salt resolves the
                     host name through DNS at start). The namespace set-up is not
                     part of any measured time.
        --before SH  shell command run (untimed) before every run, e.g. to reset
                     state for a "cold" measurement.
        --expect S   every run's stdout+stderr must contain S (sanity check;
                     may be repeated). --reject S: must not contain S.
        --label L    name for the record (the table's row key).
        --tool T     which tool the record is for (brine, salt, ...).

    harness.py table FILE --rows L1,L2,... [--tools salt,brine] [--title ...]
        Prints a markdown table from the JSON-lines FILE written by `measure`:
        per row, each tool's median wall / min wall / median peak RSS, and the
        ratio of the first tool's median to the last one's (Salt / Brine).
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

NETNS_ENV = "BENCH_HARNESS_IN_NETNS"


def in_netns_or_reexec(argv):
    """Re-exec this harness inside `unshare -n` with loopback up (once)."""
    if os.environ.get(NETNS_ENV) == "1":
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    inner = " ".join(shlex.quote(a) for a in [sys.executable, os.path.abspath(__file__)] + argv)
    cmd = ["unshare", "-n", "sh", "-c", "ip link set lo up && exec " + inner]
    os.execvpe("unshare", cmd, env)


GNU_TIME = "/usr/bin/time"


def have_gnu_time():
    try:
        r = subprocess.run([GNU_TIME, "-f", "%M", "-o", "/dev/null", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0
    except OSError:
        return False


def run_once(cmd, env, out_path, use_time):
    """Spawn cmd with stdout+stderr to out_path; return (wall_s, maxrss_kib, status).

    Peak RSS: the kernel's ru_maxrss of a child that was created by fork/vfork
    from this Python process and then exec'd starts from *this* process's
    resident set (the pre-exec image's high-water mark is kept), so a direct
    wait4 would report at least Python's own ~10-15 MiB. GNU time is a small
    C program (~1 MiB), so its own wait4 on the command is accurate; we use it
    when present and fall back to wait4 (an upper bound) otherwise. Wall time is
    measured here either way; going through GNU time adds about 1 ms (see the
    `true` baseline row).
    """
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    rss_path = out_path + ".rss"
    argv = [GNU_TIME, "-f", "%M", "-o", rss_path] + cmd if use_time else cmd
    try:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, fd, 1),
            (os.POSIX_SPAWN_DUP2, fd, 2),
        ]
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter()
    finally:
        os.close(fd)
    rss = ru.ru_maxrss
    if use_time:
        with open(rss_path) as fh:
            rss = int(fh.read().split()[-1])  # last line; may follow an exit-status line
    return t1 - t0, rss, os.waitstatus_to_exitcode(status)


def measure(a):
    if a.netns:
        in_netns_or_reexec(sys.argv[1:])
    cmd = a.cmd
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        sys.exit("measure: no command given")
    env = dict(os.environ)
    env.pop(NETNS_ENV, None)
    walls, rsss = [], []
    use_time = have_gnu_time()
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        out_path = os.path.join(tmp, "out")
        for i in range(a.warmup + a.runs):
            if a.before:
                subprocess.run(["sh", "-c", a.before], check=True,
                               stdout=subprocess.DEVNULL)
            wall, rss, code = run_once(cmd, env, out_path, use_time)
            with open(out_path, "rb") as fh:
                out = fh.read().decode("utf-8", "replace")
            if code != 0 and not a.allow_fail:
                sys.stderr.write(f"harness: {a.label}: exit {code}: {' '.join(cmd)}\n"
                                 + out[-2000:] + "\n")
                sys.exit(1)
            for e in a.reject or []:
                if e in out:
                    sys.stderr.write(f"harness: {a.label}: output has {e!r}\n"
                                     + out[-2000:] + "\n")
                    sys.exit(1)
            for e in a.expect or []:
                if e not in out:
                    sys.stderr.write(f"harness: {a.label}: output lacks {e!r}\n"
                                     + out[-2000:] + "\n")
                    sys.exit(1)
            if i >= a.warmup:
                walls.append(wall)
                rsss.append(rss)
    rec = {
        "label": a.label or " ".join(cmd),
        "tool": a.tool,
        "cmd": cmd,
        "runs": a.runs,
        "warmup": a.warmup,
        "netns": bool(a.netns),
        "rss_source": "GNU time (wait4 of a ~1 MiB parent)" if use_time else "wait4 (upper bound)",
        "wall_median_s": statistics.median(walls),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "rss_median_mib": statistics.median(rsss) / 1024.0,
        "rss_max_mib": max(rsss) / 1024.0,
        "walls_s": [round(w, 4) for w in walls],
        "rss_kib": rsss,
    }
    line = json.dumps(rec)
    print(line)
    if a.out:
        with open(a.out, "a") as fh:
            fh.write(line + "\n")


def fmt_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1000:.1f} ms"


def table(a):
    recs = {}
    with open(a.file) as fh:
        for line in fh:
            line = line.strip()
            if line:
                r = json.loads(line)
                recs[(r["label"], r["tool"])] = r  # last one wins
    tools = a.tools.split(",")
    rows = a.rows.split(",") if a.rows else list(dict.fromkeys(k[0] for k in recs))
    head = ["what"]
    for t in tools:
        head += [f"{t} median", f"{t} min", f"{t} peak RSS"]
    head += [f"{tools[0]}/{tools[-1]} time", f"{tools[0]}/{tools[-1]} RSS"]
    if a.title:
        print(a.title)
        print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        cells = [row]
        for t in tools:
            r = recs.get((row, t))
            if r is None:
                cells += ["n/a", "n/a", "n/a"]
            else:
                cells += [fmt_time(r["wall_median_s"]), fmt_time(r["wall_min_s"]),
                          f"{r['rss_median_mib']:.1f} MiB"]
        first, last = recs.get((row, tools[0])), recs.get((row, tools[-1]))
        if first and last:
            cells.append(f"{first['wall_median_s'] / last['wall_median_s']:.1f}x")
            cells.append(f"{first['rss_median_mib'] / last['rss_median_mib']:.1f}x")
        else:
            cells += ["n/a", "n/a"]
        print("| " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="sub", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--runs", type=int, default=5)
    m.add_argument("--warmup", type=int, default=1)
    m.add_argument("--netns", action="store_true")
    m.add_argument("--before")
    m.add_argument("--expect", action="append", help="may be repeated")
    m.add_argument("--reject", action="append", help="output must not contain; may be repeated")
    m.add_argument("--allow-fail", action="store_true")
    m.add_argument("--label")
    m.add_argument("--tool", default="")
    m.add_argument("--out")
    m.add_argument("cmd", nargs=argparse.REMAINDER)
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("--rows")
    t.add_argument("--tools", default="salt,brine")
    t.add_argument("--title")
    a = ap.parse_args()
    if a.sub == "measure":
        measure(a)
    else:
        table(a)


if __name__ == "__main__":
    main()
