"""The golden manifest: expected state counts and verdicts per shipped configuration.

    python -m checker.manifest            # print what the configs give now
    python -m checker.manifest --update   # rewrite configs/manifest.json (explain it in the commit)

Each entry also has ``reduced``: the state counts under each reduction (tests/test_reductions.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from typing import Any

from checker.config import Config, ConfigError, load
from checker.explore import Limits
from checker.reductions import NAMES
from checker.run import check

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(HERE, "configs", "manifest.json")


def entry(path: str) -> dict[str, Any]:
    o = check(load(path))
    r = o.result
    return {
        "result": o.verdict,
        "states": r.states,
        "transitions": r.transitions,
        "depth": r.depth,
        "violated": {p.name: len(o.trace_steps(p) or []) for p in o.props
                     if o.status(p) == "violated" and o.lasso(p) is None},
        "liveness": {p.name: _lasso(o, p) for p in o.props if p.kind == "liveness"},
        "coverage": o.coverage(),
    }


def shipped_states(cfg: Config) -> int | None:
    """The manifest's reachable-state count for ``cfg``, only if a shipped configuration has
    the same version and parameters (a user file that reuses a shipped name may differ)."""
    path = os.path.join(HERE, "configs", f"{cfg.name}.toml")
    try:
        shipped = load(path)
        with open(MANIFEST) as f:
            states = json.load(f).get(cfg.name, {}).get("states")
    except (ConfigError, OSError, ValueError):
        return None
    same = (shipped.version, shipped.params) == (cfg.version, cfg.params)
    return states if same and isinstance(states, int) else None


REDUCED = ("symmetry", "por", "dead", "all")


def reduced_entry(path: str) -> dict[str, int]:
    """State counts with each reduction, and all of them (docs/reductions.md); liveness off."""
    cfg = load(path)
    out = {}
    for name in REDUCED:
        which = frozenset(NAMES) if name == "all" else frozenset([name])
        out[name] = check(cfg, Limits(), liveness=False, reduce=which).result.states
    return out


def _lasso(o: Any, p: Any) -> Any:
    lasso = o.lasso(p)
    if lasso is None:
        return o.status(p)
    return {"instance": lasso.instance, "kind": lasso.kind,
            "prefix": len(lasso.prefix) - 1, "cycle": len(lasso.cycle_actions)}


def never_fired(golden: dict[str, Any]) -> list[str]:
    """Actions that fire in none of the shipped configurations."""
    total: dict[str, int] = {}
    for e in golden.values():
        for name, count in e["coverage"].items():
            total[name] = total.get(name, 0) + count
    return sorted(n for n, c in total.items() if c == 0)


def configs() -> list[str]:
    return sorted(glob.glob(os.path.join(HERE, "configs", "*.toml")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m checker.manifest")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="recompute only these configurations; keep the others' entries")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {}
    if args.only:
        with open(MANIFEST) as f:
            out = json.load(f)
        known = {os.path.splitext(os.path.basename(p))[0] for p in configs()}
        if unknown := sorted(set(args.only) - known):
            ap.error(f"--only: no configuration named {', '.join(unknown)}")
    for path in configs():
        name = os.path.splitext(os.path.basename(path))[0]
        if args.only and name not in args.only:
            continue
        print(f"checking {name}...", file=sys.stderr)
        out[name] = entry(path)
        out[name]["reduced"] = reduced_entry(path)
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    if args.update:
        with open(MANIFEST, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
