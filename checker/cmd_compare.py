"""`umcg-check compare CONFIG --versions A,B,...`: one workload, several versions."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

from checker.compare import (
    cell_text,
    differing_outcomes,
    progress_line,
    property_names,
    run_version,
    status_cell,
    step_json,
)
from checker.config import load
from checker.explore import Limits
from model.versions import VERSIONS

EPILOG = """examples:
  umcg-check compare configs/default.toml                       # every modelled version
  umcg-check compare configs/wake-swap.toml --versions v0.2,v0.2-futex-wait-wake
  umcg-check compare configs/two-servers.toml --versions v0.2,v0.2-idle-futex --json
  umcg-check compare configs/large.toml --max-seconds 300 --no-liveness

The configuration's `version` is ignored: each listed version runs the same workload,
environment and property suite.  `umcg-check list-versions` lists the names.

exit codes: 0 every checked property holds in every version; 1 a property is violated
            in some version; 2 bad input or usage; 3 a limit stopped some run first"""


class CompareUsage(Exception):
    pass


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="run one workload on several versions: property matrix "
                       "and differing outcomes", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", help="TOML configuration (default: configs/default.toml)")
    p.add_argument("--versions", metavar="A,B,...",
                   help=f"versions to compare (default: all: {','.join(VERSIONS)})")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--max-seconds", type=float, metavar="S", help="per version time limit")
    p.add_argument("--max-states", type=int, metavar="N", help="per version state limit")
    p.add_argument("--no-liveness", action="store_true", help="skip the liveness analysis")
    p.add_argument("--max-outcomes", type=int, default=12, metavar="N",
                   help="print at most N differing outcomes (JSON has all; default 12)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_compare)


def _versions(arg: str | None) -> list[str]:
    from checker.cli import UsageError

    if arg is None:
        return list(VERSIONS)
    names = [x.strip() for x in arg.split(",")]
    if not all(names):
        raise UsageError(f"--versions {arg!r}: an empty name (list names separated by commas)")
    for n in names:
        if n not in VERSIONS:
            raise UsageError(f"--versions: unknown version {n!r} (known: {', '.join(VERSIONS)})")
    if len(set(names)) != len(names):
        raise UsageError(f"--versions {arg!r}: a version is listed twice")
    return names


def cmd_compare(args: argparse.Namespace) -> int:
    from checker.cli import UsageError

    cfg = load(args.config)
    names = _versions(args.versions)
    if args.max_states is not None and args.max_states < 1:
        raise UsageError("--max-states must be at least 1")
    if args.max_seconds is not None and not (math.isfinite(args.max_seconds)
                                             and args.max_seconds > 0):
        raise UsageError("--max-seconds must be positive")
    if args.max_outcomes < 0:
        raise UsageError("--max-outcomes must be at least 0")
    limits = Limits(args.max_states if args.max_states is not None else cfg.max_states,
                    args.max_seconds if args.max_seconds is not None else cfg.max_seconds)
    runs = []
    for v in names:
        progress_line(f"exploring {cfg.name} on {v}...", args.quiet)
        runs.append(run_version(cfg, v, limits, not args.quiet, not args.no_liveness))
    props = property_names(runs)
    matrix = {p: {vr.version: status_cell(vr, p) for vr in runs} for p in props}
    diffs = differing_outcomes(runs)
    if args.json:
        doc = {
            "config": cfg.name, "config_path": cfg.path,
            "versions": [{"name": vr.version, "complete": vr.complete,
                          "stopped_by": vr.outcome.result.stopped_by,
                          "states": vr.outcome.result.states,
                          "seconds": round(vr.seconds, 2),
                          "outcomes": len(vr.ends)} for vr in runs],
            "matrix": matrix,
            "differing_outcomes": [
                {"outcome": d["outcome"], "reached_by": d["reached_by"],
                 "not_reached_by": d["not_reached_by"],
                 "witness": {v: [step_json(s) for s in w] for v, w in d["witness"].items()}}
                for d in diffs],
        }
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_compare(cfg.name, runs, props, matrix, diffs, args.max_outcomes)
    if any(not vr.complete for vr in runs):
        return 3
    violated = any(c["status"] == "violated" for row in matrix.values() for c in row.values())
    return 1 if violated else 0


def print_compare(name: str, runs: list, props: list[str], matrix: dict, diffs: list,
                  max_outcomes: int) -> None:
    w = sys.stdout.write
    w(f"umcg-check compare  config {name}\n\n")
    for vr in runs:
        r = vr.outcome.result
        state = "complete" if vr.complete else f"INCOMPLETE (stopped by {r.stopped_by})"
        w(f"  {vr.version:22} {r.states:>12,} states  {vr.seconds:7.1f} s  {state}; "
          f"{len(vr.ends)} distinct end outcomes\n")
    width = 2 + max([len(vr.version) for vr in runs]
                    + [len(cell_text(c)) for row in matrix.values() for c in row.values()])
    w(f"\n{'property':24}" + "".join(f"{vr.version:{width}}" for vr in runs) + "\n")
    for p in props:
        w(f"{p:24}" + "".join(f"{cell_text(matrix[p][vr.version]):{width}}" for vr in runs)
          + "\n")
    na = {(p, v): c["why"] for p, row in matrix.items() for v, c in row.items()
          if c["status"] == "not applicable"}
    for (p, v), why in na.items():
        w(f"  n/a: {p} in {v}: {why}\n")
    w(f"\nOutcomes that differ ({len(diffs)}; an outcome is how the run ends and what each "
      "task ends in)\n")
    for d in diffs[:max_outcomes]:
        w(f"\n* {d['outcome'][0]}: " + "; ".join(d["outcome"][1:]) + "\n")
        w(f"  reached by: {', '.join(d['reached_by'])}; not by: {', '.join(d['not_reached_by'])}\n")
        v, wit = min(d["witness"].items(), key=lambda x: len(x[1]))
        w(f"  witness in {v} ({len(wit)} steps):\n")
        for s in wit:
            w(f"    {s.index:>3} {s.task:3} {s.action}\n")
    if len(diffs) > max_outcomes:
        w(f"\n... {len(diffs) - max_outcomes} more (--max-outcomes N, or --json for all)\n")
    if not os.environ.get("UMCG_CHECK_NO_HINT"):
        w("\nwitness traces with citations: --json\n")
