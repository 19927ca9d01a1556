"""Explorer speed and memory on a named configuration.

    python benchmarks/bench_explore.py                 # configs/default.toml
    python benchmarks/bench_explore.py configs/large.toml --baseline-states 20000

Prints distinct states, states per second and peak resident memory of a full run
(each run in a fresh subprocess, so the peak belongs to that run alone), and the
speed ratio of the compiled explorer against the tree-walking interpreter
(model/eval.py) over the same first N states, measured in this same script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


def child(config: str, mode: str, max_states: int | None) -> None:
    from checker.config import load
    from checker.explore import Explorer, Limits
    from checker.run import build_model
    from model.eval import successors as interp

    cfg = load(config)
    m, props = build_model(cfg)
    ex = Explorer(m.spec, props, m.finished)
    if mode == "interpreted":
        spec = m.spec
        ex.compiled.successors = lambda s: interp(spec, s)  # type: ignore[method-assign]
    t0 = time.perf_counter()
    r = ex.run(Limits(max_states=max_states))
    dt = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"states": r.states, "transitions": r.transitions, "seconds": dt,
                      "complete": r.complete, "peak_rss_mb": rss_kb / 1024}))


def measure(config: str, mode: str, max_states: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, config]
    if max_states:
        cmd += ["--max-states", str(max_states)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default=os.path.join(HERE, "configs", "default.toml"))
    ap.add_argument("--baseline-states", type=int, default=20000,
                    help="states explored by both engines for the speed ratio")
    ap.add_argument("--child", choices=["compiled", "interpreted"])
    ap.add_argument("--max-states", type=int)
    args = ap.parse_args()
    if args.child:
        child(args.config, args.child, args.max_states)
        return 0
    name = os.path.basename(args.config)
    full = measure(args.config, "compiled", None)
    print(f"{name}: {full['states']:,} states, {full['transitions']:,} transitions in "
          f"{full['seconds']:.2f} s = {full['states'] / full['seconds']:,.0f} states/s, "
          f"peak RSS {full['peak_rss_mb']:.0f} MB "
          f"({full['peak_rss_mb'] * 1024 * 1024 / full['states']:.0f} B/state incl. interpreter)")
    n = args.baseline_states
    comp = measure(args.config, "compiled", n)
    interp = measure(args.config, "interpreted", n)
    rc = comp["states"] / comp["seconds"]
    ri = interp["states"] / interp["seconds"]
    print(f"first {n:,} states: compiled {rc:,.0f} states/s, interpreted {ri:,.0f} states/s, "
          f"ratio {rc / ri:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
