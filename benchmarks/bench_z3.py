"""Z3 engine figures: BMC seconds per depth and induction seconds, per shipped config.

    python benchmarks/bench_z3.py                       # every config in configs/
    python benchmarks/bench_z3.py configs/small.toml --depth 30 --budget 60
    python benchmarks/bench_z3.py --proofs-only          # only the saved projection proofs
    python benchmarks/bench_z3.py --search configs/small.toml --property INV-12

BMC checks every invariant at every depth on one incremental solver and stops at
--depth or when the cumulative time passes --budget seconds.  Induction is 1-induction
of each invariant with the whole strengthening library (properties/strengthening_v0_2.py).
The saved projection proofs (docs/proofs/*.json, `prove --proof`) are checked last: the
explorer's seconds, then the 1-induction seconds of each property with its strengthening.
--search times the projection search (`prove --projections`, without the minimization)
twice in one process: from the property alone, then from the one- and two-term seeds
with task images (the default), and prints the ratio.
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


def bench_proofs(root: str, jobs: int = 1) -> None:
    import json

    from checker.explore import Explorer
    from checker.z3mine import terms
    from checker.z3proj import Reach, from_json, prove

    for path in sorted(glob.glob(os.path.join(root, "docs", "proofs", "*.json"))):
        with open(path) as f:
            doc = json.load(f)
        cfg = load(os.path.join(root, "configs", f"{doc['config']}.toml"))
        model, props = build_model(cfg)
        t0 = time.monotonic()
        ex = Explorer(model.spec, [], model.finished)
        ex.run()
        ts = terms(model)
        reach = Reach(ts, ex.states)
        explore_s = time.monotonic() - t0
        print(f"\n== proof {os.path.relpath(path, root)} ({cfg.name}): explorer "
              f"{len(ex.states):,} states in {explore_s:.1f} s")
        enc = Encoder(model.spec)
        for g in goals_of(enc, [p for p in props if p.name in doc["properties"]], None):
            projs, _ = from_json(ts, doc["properties"][g.name], reach)
            r = prove(model.spec, g, reach, seed=projs, minimize=False, learn=False, jobs=jobs)
            print(f"  1-induction  {g.name:20} {r.proof.status:8} {len(projs):4} projections  "
                  f"{r.queries:5} queries  {r.proof.seconds:7.2f} s")


def bench_search(path: str, prop: str) -> None:
    from checker.cmd_z3 import _domain_size
    from checker.explore import Explorer
    from checker.z3mine import terms
    from checker.z3proj import Reach, prove, task_images

    cfg = load(path)
    model, props = build_model(cfg)
    ex = Explorer(model.spec, [], model.finished)
    ex.run()
    ts = terms(model)
    reach = Reach(ts, ex.states)
    (g,) = goals_of(Encoder(model.spec), [p for p in props if p.name == prop], None)
    print(f"\n== projection search for {prop} on {cfg.name} ({len(ex.states):,} states, "
          f"{len(ts)} terms), no minimization")
    secs = []
    for label in ("property alone", "seeds + task images"):
        t0 = time.monotonic()
        seed, images = [], None
        if label != "property alone":
            seed = reach.seeds([_domain_size(t) for t in ts])
            images = task_images(ts, [[t.name for t in model.servers],
                                      [t.name for t in model.workers]])
        r = prove(model.spec, g, reach, seed=seed, companions=images, minimize=False)
        secs.append(time.monotonic() - t0)
        print(f"  {label:20} {r.proof.status:8} {len(seed):4} seeds  {r.found:4} found  "
              f"{r.queries:5} queries  {secs[-1]:7.2f} s")
    print(f"  ratio (seeded / alone): {secs[1] / secs[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*")
    ap.add_argument("--depth", type=int, default=40)
    ap.add_argument("--budget", type=float, default=30.0, help="BMC seconds per config")
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--proofs-only", action="store_true",
                    help="only check the saved projection proofs (docs/proofs)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="processes for the first round of a proof check (prove --jobs)")
    ap.add_argument("--search", metavar="CONFIG",
                    help="only time the projection search on CONFIG, with and without seeds")
    ap.add_argument("--property", default="INV-12", help="--search: the invariant")
    a = ap.parse_args()
    if a.search:
        bench_search(a.search, a.property)
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = a.configs or sorted(glob.glob(os.path.join(root, "configs", "*.toml")))
    if not a.proofs_only:
        for p in paths:
            bench(p, a.depth, a.budget, a.k)
    bench_proofs(root, a.jobs)


if __name__ == "__main__":
    main()
