"""`umcg-check run` and `umcg-check replay`: the concrete reference executor
(docs/executor.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

RUN_EPILOG = """examples:
  umcg-check run configs/default.toml --seconds 30
  umcg-check run configs/signal.toml --seconds 60 --seed 7 --json
  umcg-check run --workload mutex --seconds 10

Random executions of the executor's threads (the patch's functions as plain code), each
step checked against the model (conformance: same action, same resulting state).

exit codes: 0 no divergence; 1 a divergence or a hang (printed with both sides);
2 bad input or usage; 130 interrupted"""

REPLAY_EPILOG = """examples:
  umcg-check check configs/signal.toml --trace-dir out/
  umcg-check replay out/signal.INV-11.itf.json
  umcg-check replay out/default.no_deadlock.itf.json --no-memory

Drives the executor's threads in the order of a checker trace, compares every state,
shows the concrete memory image after each step and says whether the trace's violation
happens on the executor.

exit codes: 0 the violation happens on the executor; 1 it does not, or the executor
diverges from the trace; 2 bad input or usage"""


def add_parser(sub: Any) -> None:
    r = sub.add_parser("run", help="random executions of the reference executor, each checked "
                       "against the model", epilog=RUN_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("config", nargs="?", help="TOML configuration (default: configs/default.toml)")
    r.add_argument("--seconds", type=float, default=10.0, metavar="N",
                   help="run for N seconds (default 10)")
    r.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    r.add_argument("--max-steps", type=int, default=2000, metavar="N",
                   help="cut an execution after N steps (spins; default 2000)")
    r.add_argument("--workload", choices=("producer-consumer", "mutex"),
                   help="run a real program of executor/workloads.py instead of a "
                   "configuration (checks its own result; no model to conform to)")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    r.set_defaults(func=cmd_run)
    p = sub.add_parser("replay", help="replay a checker trace (ITF) on the reference executor",
                       epilog=REPLAY_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace", help="an ITF trace written by `check --trace-dir`")
    p.add_argument("--config", metavar="TOML",
                   help="the trace's configuration (default: configs/<#meta.config>.toml)")
    p.add_argument("--no-memory", action="store_true",
                   help="do not print the memory image after each step")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_replay)


EXECUTED_VERSION = "v0.2"


def _cfg(path: str | None) -> Any:
    from checker.cli import UsageError
    from checker.config import load

    cfg = load(path)
    # executor/ implements the v0.2 patch only; another version's model would diverge at
    # its first extra variable, which is no finding.
    if cfg.version != EXECUTED_VERSION:
        raise UsageError(f"{cfg.path or cfg.name}: version {cfg.version!r}: the reference "
                         f"executor implements {EXECUTED_VERSION} only")
    return cfg


def cmd_run(args: argparse.Namespace) -> int:
    from checker.cli import UsageError
    from checker.manifest import shipped_states
    from executor.drive import options, print_report, run_random
    from model.versions import VERSIONS

    if not args.seconds > 0 or args.seconds != args.seconds:
        raise UsageError("--seconds must be positive")
    if args.max_steps < 1:
        raise UsageError("--max-steps must be at least 1")
    say = None if args.quiet else (lambda m: print(f"umcg-check: run: {m}", file=sys.stderr))
    total = None
    if args.workload:
        if args.config:
            raise UsageError("--workload runs its own tasks: give no configuration")
        from executor.drive import run_workload

        name = args.workload
        rep = run_workload(name, args.seconds, args.seed, progress=say)
    else:
        cfg = _cfg(args.config)
        name = cfg.name
        model = VERSIONS[cfg.version].build(cfg.params)
        rep = run_random(model, options(cfg.params), args.seconds, args.seed, args.max_steps,
                         progress=say)
        total = shipped_states(cfg)
    if args.json:
        print(json.dumps({"config": name, "seed": args.seed, "executions": rep.executions,
                          "steps": rep.steps, "seconds": round(rep.seconds, 3),
                          "outcomes": dict(rep.outcomes), "states_visited": rep.visited,
                          "states_reachable": total,
                          "divergences": 0 if rep.divergence is None else 1,
                          "divergence": rep.divergence, "hang": rep.hang,
                          "interrupted": rep.interrupted}, indent=1))
    else:
        print_report(rep, name, total)
    if rep.interrupted:
        return 130
    return 0 if rep.ok else 1


def cmd_replay(args: argparse.Namespace) -> int:
    from checker.cli import UsageError
    from checker.config import DEFAULT_CONFIG
    from checker.run import build_model
    from checker.trace import read_itf
    from executor.drive import TraceError, options, replay

    doc = read_itf(args.trace, args.trace)
    meta = doc.get("#meta") if isinstance(doc.get("#meta"), dict) else {}
    path = args.config
    if path is None:
        name = meta.get("config")
        if not isinstance(name, str):
            raise UsageError(f"{args.trace}: no #meta.config; give --config")
        path = os.path.join(os.path.dirname(DEFAULT_CONFIG), f"{name}.toml")
        if not os.path.exists(path):
            raise UsageError(f"{args.trace}: its configuration {name!r} is not in "
                             f"{os.path.dirname(DEFAULT_CONFIG)}; give --config")
    cfg = _cfg(path)
    model, props = build_model(cfg)
    show = (lambda s: None) if args.json else print
    try:
        rep = replay(model, options(cfg.params), doc, props, show, memory=not args.no_memory)
    except TraceError as e:
        raise UsageError(f"{args.trace}: {e}") from None
    prop = meta.get("property", "?")
    if args.json:
        print(json.dumps({"trace": args.trace, "property": prop, "steps": rep.steps,
                          "confirmed": rep.confirmed, "verdict": rep.verdict,
                          "divergence": rep.divergence}, indent=1))
    elif rep.divergence:
        print(f"DIVERGENCE after {rep.steps} steps: {rep.divergence}")
    else:
        word = "CONFIRMED" if rep.confirmed else "NOT CONFIRMED"
        print(f"{word}: {prop} ({rep.steps} steps on the executor): {rep.verdict}")
    return 0 if rep.confirmed and not rep.divergence else 1
