"""The explorer's inner loop, before and after a change, measured side by side in one run.

    python benchmarks/bench_inner_loop.py                        # default + large, 300k states
    python benchmarks/bench_inner_loop.py --before 9f959ec --max-states 500000 --profile

The code of revision --before (checker/, model/, properties/) is unpacked with `git archive`
into a temporary directory; each measurement runs in a fresh subprocess (unreduced, liveness
off), alternating before/after --repeat times, and the best states/s of each side is compared,
so load from other processes on the machine hits both sides alike.  --profile prints the
cProfile top 5 (by own time) of each side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(config: str, max_states: int, profile: bool) -> None:
    import cProfile
    import io
    import pstats

    from checker.config import load
    from checker.explore import Explorer, Limits
    from checker.run import build_model

    m, props = build_model(load(config))
    props = [p for p in props if p.kind != "liveness"]
    ex = Explorer(m.spec, props, m.finished)
    pr = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if pr:
        pr.enable()
    r = ex.run(Limits(max_states=max_states))
    if pr:
        pr.disable()
    dt = time.perf_counter() - t0
    top = ""
    if pr:
        buf = io.StringIO()
        st = pstats.Stats(pr, stream=buf).sort_stats("tottime")
        st.print_stats(5)
        top = "\n".join(line for line in buf.getvalue().splitlines()
                        if line.strip() and ("{" in line or "/" in line or "<" in line))
    print(json.dumps({"states": r.states, "seconds": dt, "rate": r.states / dt, "top": top}))


def measure(tree: str, config: str, max_states: int, profile: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=tree)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", config,
           "--max-states", str(max_states)] + (["--profile"] if profile else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def unpack(rev: str, into: str) -> None:
    arch = subprocess.run(["git", "-C", HERE, "archive", rev, "checker", "model", "properties",
                           "configs"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=arch, check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("configs", nargs="*",
                    default=[os.path.join(HERE, "configs", "default.toml"),
                             os.path.join(HERE, "configs", "large.toml")])
    ap.add_argument("--before", default="9f959ec", help="git revision to compare against")
    ap.add_argument("--max-states", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.max_states, args.profile)
        return 0
    with tempfile.TemporaryDirectory() as before:
        unpack(args.before, before)
        print(f"{'config':10} {'side':8} {'states':>9} {'best s':>8} {'states/s':>10}")
        for config in args.configs:
            best: dict[str, dict] = {}
            for _ in range(args.repeat):
                for side, tree in (("before", before), ("after", HERE)):
                    r = measure(tree, os.path.abspath(config), args.max_states, False)
                    if side not in best or r["rate"] > best[side]["rate"]:
                        best[side] = r
            name = os.path.splitext(os.path.basename(config))[0]
            for side in ("before", "after"):
                r = best[side]
                print(f"{name:10} {side:8} {r['states']:>9,} {r['seconds']:>8.2f} "
                      f"{r['rate']:>10,.0f}")
            ratio = best["after"]["rate"] / best["before"]["rate"]
            print(f"{name:10} ratio after/before: {ratio:.2f}")
            if args.profile:
                for side, tree in (("before", before), ("after", HERE)):
                    r = measure(tree, os.path.abspath(config), args.max_states, True)
                    print(f"  cProfile top 5 ({side}, {name}):\n{r['top']}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
