# Python side of bench/jinja/micro.sh: python micro.py N OUTDIR NAME...
import json, os, sys, time, jinja2
here = os.path.dirname(os.path.abspath(__file__))
res = os.path.join(here, "..", "..", "..", "Tests", "JinjaTests", "Resources", "bench")
n, outdir, names = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ctx = json.load(open(os.path.join(res, "context.json")))
env = jinja2.Environment(loader=jinja2.FileSystemLoader([here, res]),
                         extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
for name in names:
    out = env.get_template(name).render(ctx)
    with open(os.path.join(outdir, "py-" + name), "w") as f:
        f.write(out)
    t = time.perf_counter()
    for _ in range(n):
        env.get_template(name).render(ctx)
    print("%s %.2f" % (name, (time.perf_counter() - t) / n * 1e6))
