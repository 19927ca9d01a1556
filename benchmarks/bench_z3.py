"""Z3 engine figures: BMC seconds per depth and induction seconds, per shipped config.

    python benchmarks/bench_z3.py                       # every config in configs/
    python benchmarks/bench_z3.py configs/small.toml --depth 30 --budget 60

BMC checks every invariant at every depth on one incremental solver and stops at
--depth or when the cumulative time passes --budget seconds.  Induction is 1-induction
of each invariant with the whole strengthening library (properties/strengthening_v0_2.py).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checker.config import load  # noqa: E402
from checker.run import build_model  # noqa: E402
from checker.z3enc import Encoder  # noqa: E402
from checker.z3engine import bmc, expr_goal, goals_of, k_induction  # noqa: E402
from properties.base import INVARIANT  # noqa: E402
from properties.strengthening_v0_2 import LIBRARY  # noqa: E402


def bench(path: str, depth: int, budget: float, k: int) -> None:
    cfg = load(path)
    model, props = build_model(cfg)
    spec = model.spec
    inv = [p for p in props if p.kind == INVARIANT]
    enc = Encoder(spec)
    print(f"\n== {cfg.name}: {len(spec.vars)} slots, {len(spec.actions)} actions, "
          f"{len(inv)} invariants")
    rows: list[tuple[int, float]] = []
    t0 = time.monotonic()
    res = bmc(spec, goals_of(enc, inv, None), depth,
              progress=lambda d, secs: rows.append((d, secs)), max_seconds=budget)
    found = {n: len(p) - 1 for n, p in res.violations.items()}
    prev = 0.0
    print("  BMC  depth  s/depth  cumulative")
    for d, secs in rows:
        if d % 5 == 0 or d == rows[-1][0]:
            print(f"       {d:>5}  {secs - prev:7.2f}  {secs:10.2f}")
        prev = secs
    print(f"  BMC checked every invariant to depth {res.depth} in "
          f"{time.monotonic() - t0:.1f} s" + (f"; violations {found}" if found else ""))
    strong = [expr_goal(enc, n, s.build(model)) for n, s in LIBRARY.items()]
    print(f"  {k}-induction (strengthening: {', '.join(LIBRARY)})")
    for g in goals_of(enc, inv, None):
        r = k_induction(spec, g, strong, max_k=k)
        print(f"       {g.name:20} {r.status:20} {r.seconds:6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--depth", type=int, default=40)
    ap.add_argument("--budget", type=float, default=30.0, help="BMC seconds per config")
    ap.add_argument("--k", type=int, default=1)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = a.configs or sorted(glob.glob(os.path.join(root, "configs", "*.toml")))
    for p in paths:
        bench(p, a.depth, a.budget, a.k)


if __name__ == "__main__":
    main()
