"""Renders the benchmark template set with Python's Jinja2 (the baseline
for BenchmarkTests.testBenchmark). Usage: python3 bench_python.py [N]
`python3 bench_python.py dump` rewrites the expected-*.txt outputs."""
import json, os, sys, time
import jinja2

d = os.path.dirname(os.path.abspath(__file__))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(d), extensions=['jinja2.ext.do', 'jinja2.ext.loopcontrols'])
ctx = json.load(open(os.path.join(d, 'context.json')))
names = {'states.sls': 'expected-states.sls.txt', 'config.conf.jinja': 'expected-config.conf.txt'}
if sys.argv[1:] == ['dump']:
    for n, out in names.items():
        with open(os.path.join(d, out), 'w') as f:
            f.write(env.get_template(n).render(ctx))
    sys.exit()
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
for name in names: env.get_template(name).render(ctx)
t = time.perf_counter()
for _ in range(n):
    for name in names:
        env.get_template(name).render(ctx)
dt = time.perf_counter() - t
print(f"python jinja2: {n} iterations in {dt:.3f}s = {n/dt:.1f} sets/s")
