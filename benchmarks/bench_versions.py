"""Explorer cost of each modelled version on one workload (what `compare` pays per version).

    python benchmarks/bench_versions.py                          # configs/default.toml
    python benchmarks/bench_versions.py configs/small.toml --max-seconds 60

Prints, per version, distinct states, whether the run completed, seconds, states per second
and peak resident memory (each version in a fresh subprocess, invariants and deadlock only,
so the figures are the exploration's alone).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


def child(config: str, version: str, max_seconds: float | None) -> None:
    from checker.config import load
    from checker.explore import Explorer, Limits
    from checker.run import build_model

    cfg = dataclasses.replace(load(config), version=version)
    m, props = build_model(cfg)
    ex = Explorer(m.spec, [p for p in props if p.kind != "liveness"], m.finished)
    t0 = time.perf_counter()
    r = ex.run(Limits(max_seconds=max_seconds))
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"states": r.states, "complete": r.complete, "seconds": dt,
                      "peak_mb": rss / 1024}))


def main() -> int:
    from model.versions import VERSIONS

    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default=os.path.join(HERE, "configs", "default.toml"))
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--child", nargs=2, metavar=("CONFIG", "VERSION"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.max_seconds)
        return 0
    print(f"{'version':22} {'states':>12} {'complete':>9} {'seconds':>9} {'states/s':>10} "
          f"{'peak MB':>8}")
    for v in VERSIONS:
        out = subprocess.run([sys.executable, __file__, "--child", args.config, v,
                              "--max-seconds", str(args.max_seconds)],
                             check=True, capture_output=True, text=True).stdout
        d = json.loads(out)
        print(f"{v:22} {d['states']:>12,} {str(d['complete']):>9} {d['seconds']:>9.1f} "
              f"{d['states'] / d['seconds']:>10,.0f} {d['peak_mb']:>8,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
