"""State-space reductions side by side: states, seconds, states/s, peak memory.

    python benchmarks/bench_reductions.py                          # the default list, 300 s cap
    python benchmarks/bench_reductions.py configs/two-servers.toml --modes none,all
    python benchmarks/bench_reductions.py benchmarks/configs/red-2s2w-every.toml --max-seconds 600

For each configuration and each mode (none, each reduction alone, all of them) one fresh
subprocess runs `check` with liveness off (so peak memory is that run's alone) and prints one
line.  A run stopped by --max-seconds shows its states so far and "incomplete"; the verdict
column is the run's result.  Progress goes to stderr.
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

CONFIGS = ["configs/two-servers.toml", "configs/default.toml",
           "benchmarks/configs/red-1s2w-sym.toml", "benchmarks/configs/red-1s2w-every.toml",
           "benchmarks/configs/red-1s3w-sym.toml", "benchmarks/configs/red-2s2w-every.toml"]
MODES = ["none", "symmetry", "por", "dead", "all"]


def child(config: str, mode: str, max_seconds: float) -> None:
    from checker.config import load
    from checker.explore import Limits
    from checker.reductions import parse
    from checker.run import check

    t0 = time.perf_counter()
    o = check(load(config), Limits(max_seconds=max_seconds), liveness=False,
              reduce=parse(mode))
    dt = time.perf_counter() - t0
    r = o.result
    print(json.dumps({"states": r.states, "transitions": r.transitions, "seconds": dt,
                      "explore_seconds": r.seconds, "verdict": o.verdict,
                      "violated": o.violated,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(config: str, mode: str, max_seconds: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, config,
           "--max-seconds", str(max_seconds)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("configs", nargs="*", default=[os.path.join(HERE, c) for c in CONFIGS])
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--child", metavar="MODE")
    args = ap.parse_args()
    if args.child:
        child(args.configs[0], args.child, args.max_seconds)
        return 0
    print(f"{'config':16} {'reduce':9} {'states':>11} {'seconds':>8} {'states/s':>9} "
          f"{'peak MB':>8}  verdict")
    for config in args.configs:
        name = os.path.splitext(os.path.basename(config))[0]
        base = None
        for mode in args.modes.split(","):
            print(f"  running {name} --reduce {mode}...", file=sys.stderr, flush=True)
            r = measure(config, mode, args.max_seconds)
            rate = r["states"] / r["explore_seconds"] if r["explore_seconds"] > 0 else 0.0
            if mode == "none":
                base = r
            frac = (f" ({r['states'] / base['states']:.2f}x states, "
                    f"{r['explore_seconds'] / base['explore_seconds']:.2f}x time)"
                    if base and mode != "none" and base["verdict"] != "incomplete"
                    and r["verdict"] != "incomplete" else "")
            print(f"{name:16} {mode:9} {r['states']:>11,} {r['explore_seconds']:>8.1f} "
                  f"{rate:>9,.0f} {r['peak_rss_mb']:>8,.0f}  {r['verdict']}"
                  f"{' ' + ','.join(r['violated']) if r['violated'] else ''}{frac}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
