"""`umcg-check render`: the pictures of docs/pictures.md as SVG, PNG or DOT files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from checker.files import write_atomic
from checker.trace import read_itf

EPILOG = """examples:
  umcg-check render configs/default.toml --what roles --out roles.svg
  umcg-check render configs/default.toml --what graph --out graph.svg --property no_deadlock
  umcg-check render configs/default.toml --what graph --abstraction task:W0 --out w0.svg
  umcg-check render configs/signal.toml --what trace --property INV-11 --out inv11.svg
  umcg-check render configs/signal.toml --what trace --trace out/signal.INV-11.itf.json \\
      --out inv11.png

kinds:
  roles  each role's state machine as explored, beside the transitions v0.2 documents
  graph  the reachable state graph (every state up to --cap, else a quotient)
  trace  a counterexample as a sequence chart (--trace ITF file, --property, or the first
         violation of the run)

abstractions (graph above the cap):
  states         the vector of every task's UMCG state word (default)
  task:NAME      one task's view: its state word, server_tid, __state and pc
  vars:A,B,...   any model variables, e.g. vars:W0.state,IWH

exit codes: 0 written; 2 bad input or usage"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("render", help="draw the role state machines, the state graph or a "
                       "counterexample (Graphviz)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?",
                   help="TOML configuration (default: configs/default.toml)")
    p.add_argument("--what", required=True, choices=("roles", "graph", "trace"),
                   help="which picture")
    p.add_argument("--out", required=True, metavar="FILE", help="output file")
    p.add_argument("--format", choices=("svg", "png", "dot"),
                   help="output format (default: from FILE's extension, else svg)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--trace", metavar="ITF.json", help="a counterexample in ITF JSON")
    src.add_argument("--property", metavar="NAME", help="the run's counterexample for NAME")
    p.add_argument("--cap", type=int, default=None, metavar="N",
                   help="graph: draw every state up to N states (default 300), else a quotient")
    p.add_argument("--abstraction", default="states", metavar="A",
                   help="graph: states | task:NAME | vars:A,B,... (default states)")
    p.add_argument("--max-states", type=int, metavar="N", help="stop exploring after N states")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_render)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    ext = os.path.splitext(args.out)[1].lower().lstrip(".")
    return {"svg": "svg", "png": "png", "dot": "dot", "gv": "dot"}.get(ext, "svg")


def _check_out(path: str) -> None:
    from checker.cli import UsageError

    if not path:
        raise UsageError("--out: empty path")
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out {path}: {parent} is not a writable directory")


def cmd_render(args: argparse.Namespace) -> int:
    from checker import render as R
    from checker.cli import UsageError
    from checker.config import load
    from checker.explore import Limits
    from checker.run import build_model, check

    cfg = load(args.config)
    fmt = _format(args)
    _check_out(args.out)
    if args.cap is not None and args.cap < 1:
        raise UsageError("--cap must be at least 1")
    if args.max_states is not None and args.max_states < 1:
        raise UsageError("--max-states must be at least 1")
    if args.what == "roles" and (args.trace or args.property):
        raise UsageError("--what roles takes no --trace or --property")
    if fmt != "dot" and R.dot_binary() is None:
        raise UsageError("the Graphviz `dot` program is not installed "
                         "(apt-get install graphviz, or --format dot)")
    doc = read_itf(args.trace, f"--trace {args.trace}") if args.trace else None
    say = (lambda m: None) if args.quiet else (lambda m: print(f"umcg-check: {m}",
                                                              file=sys.stderr))
    t0 = time.monotonic()
    if args.what == "trace" and doc is not None:
        # A trace file needs only the model (actors, variable names), not an exploration.
        model, _ = build_model(cfg)
        R.itf_path(model, doc)  # refuses a trace of another model
        source = R.trace_dot(doc, R.actors_of(model))
    else:
        live = False
        if args.property is not None:
            model, props = build_model(cfg)
            kinds = {p.name: p.kind for p in props}
            if args.property not in kinds:
                raise UsageError(f"--property {args.property}: not a property of this "
                                 f"configuration ({', '.join(kinds)})")
            live = kinds[args.property] == "liveness"
        limits = Limits(args.max_states if args.max_states is not None else cfg.max_states,
                        cfg.max_seconds)
        say(f"exploring {cfg.name} ({cfg.version})...")
        o = _check(check, cfg, limits, not args.quiet, live)
        say(f"explored {o.result.states:,} states in {time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        if args.what == "roles":
            source = R.roles_dot(o)
        else:
            path, label, itf = _counterexample(o, args, doc, args.what == "trace")
            if args.what == "graph":
                source = R.graph_dot(o, args.cap or R.DEFAULT_CAP, args.abstraction, path,
                                     label)
            else:
                assert itf is not None
                source = R.trace_dot(itf, R.actors_of(o.model))
    data = R.run_dot(source, fmt)
    try:
        write_atomic(args.out, data)
    except OSError as e:
        raise UsageError(f"--out {args.out}: {e.strerror}") from None
    say(f"wrote {args.out} ({args.what}, {fmt}, {time.monotonic() - t0:.2f} s to draw)")
    return 0


def _counterexample(o: Any, args: argparse.Namespace, doc: dict[str, Any] | None,
                    required: bool) -> tuple[list[bytes] | None, str, dict[str, Any] | None]:
    """The path to highlight or chart: from --trace, --property, or the first violation."""
    from checker import render as R
    from checker.cli import UsageError

    if doc is not None:
        path = R.itf_path(o.model, doc)
        meta = doc.get("#meta") if isinstance(doc.get("#meta"), dict) else {}
        return path, f"trace {os.path.basename(args.trace)} ({meta.get('property', '?')})", doc
    violated = [p for p in o.props if o.status(p) == "violated"]
    if args.property is not None:
        p = next(p for p in o.props if p.name == args.property)
        if o.status(p) != "violated":
            raise UsageError(f"--property {p.name}: {o.status(p)} in {o.config.name}; "
                             "there is no counterexample to draw")
    elif violated and required:
        p = violated[0]
    else:
        if required:
            raise UsageError(f"{o.config.name}: no property is violated; give --trace")
        return None, "", None
    path = o.path(p)
    return [s for _, s in path], f"counterexample of {p.name}", o.itf(p)


def _check(check: Any, cfg: Any, limits: Any, progress: bool, liveness: bool) -> Any:
    """Run the check; the liveness pass (a second graph traversal) only when it is asked
    for, where the checker knows that option."""
    import inspect

    if "engine" in inspect.signature(check).parameters:
        # The pictures walk the explored states, which only the Python engine keeps.
        return check(cfg, limits, progress=progress, liveness=liveness, engine="python")
    if "liveness" in inspect.signature(check).parameters:
        return check(cfg, limits, progress=progress, liveness=liveness)
    return check(cfg, limits, progress=progress)
