"""The umcg-check command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from typing import Any, TextIO

from checker import reductions
from checker.config import ConfigError, load
from checker.explore import Limits, ModelError
from checker.files import InputFileError
from checker.native import NativeError
from checker.run import Outcome, build_model, check
from checker.trace import Step, write_json_atomic
from model.versions import VERSIONS

EPILOG_CHECK = """examples:
  umcg-check check                          # the default configuration (configs/default.toml)
  umcg-check check configs/preempt-locked.toml   # one configuration
  umcg-check check configs/signal.toml --json --trace-dir out/
  umcg-check check configs/large.toml --max-seconds 60

exit codes: 0 every checked property holds; 1 a property is violated;
            2 bad input or usage; 3 incomplete (a limit ended the run first)"""

EPILOG_LIST = """examples:
  umcg-check list-actions                   # the v0.2 actions with their citations
  umcg-check list-actions --markdown > docs/actions-v0.2.md
  umcg-check list-actions --version v0.3 --markdown > docs/actions-v0.3.md
  umcg-check list-actions --json"""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one clear line
        sub = self.prog.removeprefix("umcg-check").strip()
        raise UsageError(f"{sub}: {message}" if sub else message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="umcg-check",
                description="Model checking of the Linux UMCG patch series.",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    c = sub.add_parser("check", help="explore a configuration exhaustively and check properties",
                       epilog=EPILOG_CHECK, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("config", nargs="?", help="TOML configuration (default: configs/default.toml)")
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--trace-dir", metavar="DIR",
                   help="write each counterexample as an ITF JSON trace into DIR")
    c.add_argument("--max-states", type=int, metavar="N", help="stop after N distinct states")
    c.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds")
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.add_argument("--no-liveness", action="store_true",
                   help="check invariants and deadlock only (skip the liveness analysis)")
    c.add_argument("--reduce", metavar="LIST",
                   help="state-space reductions: none (default), all, or a comma-separated "
                        "subset of symmetry,por,dead (docs/reductions.md)")
    c.add_argument("--engine", choices=("python", "native"),
                   help="python (default) or native: the BFS as generated C, compiled with gcc "
                        "(docs/native.md)")
    c.add_argument("--max-memory", type=float, metavar="GIB",
                   help="native engine: stop (incomplete) before its tables pass GIB GiB")
    c.add_argument("--coverage", action="store_true",
                   help="print how often every action fired (human output)")
    c.add_argument("--report", metavar="DIR",
                   help="write a self-contained HTML report (verdicts, pictures) into DIR")
    la = sub.add_parser("list-actions", help="list a version's actions with their citations",
                        epilog=EPILOG_LIST, formatter_class=argparse.RawDescriptionHelpFormatter)
    la.add_argument("config", nargs="?", help="configuration whose model to list "
                    "(default: configs/default.toml)")
    la.add_argument("--version", metavar="V", help="list version V's model on the "
                    "configuration's workload (default: the configuration's version)")
    fmt = la.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON on stdout")
    fmt.add_argument("--markdown", action="store_true", help="a Markdown table (for docs/)")
    for mod in plugins():
        mod.add_parser(sub)
    return p


# Commands that live in their own modules: each has add_parser(subparsers), which sets
# `func` on its parser, and the function returns an exit code.
PLUGINS = (
    "checker.cmd_z3",
    "checker.cmd_render",
    "checker.cmd_export",
    "checker.cmd_executor",
    "checker.cmd_versions",
    "checker.cmd_compare",
)


def plugins() -> list[Any]:
    import importlib
    import importlib.util

    return [importlib.import_module(m) for m in PLUGINS if importlib.util.find_spec(m)]


# --------------------------------------------------------------------------- check


def _step_json(s: Step) -> dict[str, Any]:
    return {"step": s.index, "task": s.task, "action": s.action, "actor": s.actor,
            "citation": s.citation, "params": s.params,
            "changed": {n: [a, b] for n, a, b in s.changed}}


def outcome_json(o: Outcome) -> dict[str, Any]:
    r = o.result
    props = []
    for p in o.props:
        st = o.trace_steps(p)
        entry: dict[str, Any] = {
            "name": p.name, "kind": p.kind, "status": o.status(p), "statement": p.statement,
            "source": p.source, "trace": None if st is None else [_step_json(s) for s in st]}
        if st is not None:
            entry["length"] = len(st)
        if p.name in r.premise_seen:
            entry["vacuous"] = not r.premise_seen[p.name]
        if st is not None:
            entry["final"] = o.final_tasks(p)
        lasso = o.lasso(p)
        if lasso is not None:
            entry["lasso"] = {"instance": lasso.instance, "classification": lasso.kind,
                              "prefix_length": len(lasso.prefix) - 1,
                              "cycle_length": len(lasso.cycle_actions),
                              "loop_step": len(lasso.prefix) - 1}
        if p.name in o.liveness:
            entry["vacuous"] = o.liveness[p.name].vacuous
        if p.name == "no_deadlock" and st is not None:
            entry["stuck"] = o.deadlock_kind()
        props.append(entry)
    return {
        "version": o.config.version,
        "config": o.config.name,
        "config_path": o.config.path,
        "result": o.verdict,
        "stopped_by": r.stopped_by,
        "stats": {"states": r.states, "transitions": r.transitions, "depth": r.depth,
                  "seconds": round(r.seconds, 3)},
        "reductions": o.reductions,
        "end_states": dict(r.terminal),
        "fairness": o.fairness_text() if any(p.kind == "liveness" for p in o.props) else None,
        "properties": props,
        "coverage": o.coverage(),
    }


def _describe_params(o: Outcome) -> str:
    p = o.config.params
    ops = " ".join(f"{t.name}=[{','.join(p.ops[i]) or '-'}]" for i, t in enumerate(o.model.workers))
    return (f"{p.servers} server(s), {p.workers} worker(s); ops {ops}; "
            f"lock_before_wait={str(p.lock_before_wait).lower()} "
            f"server_recheck={str(p.server_recheck).lower()}; "
            f"signals={p.signals} preemptions={p.preemptions}")


def print_human(o: Outcome, coverage: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    r = o.result
    w = out.write
    rate = r.states / r.seconds if r.seconds > 0 else float("nan")
    w(f"umcg-check {o.config.version}  config {o.config.name}"
      f"{'  (' + o.config.path + ')' if o.config.path else ''}\n")
    w(f"  {_describe_params(o)}\n\n")
    verdict = {"ok": "OK: every checked property holds",
               "violation": "VIOLATION",
               "incomplete": f"INCOMPLETE: stopped by {r.stopped_by}"}[o.verdict]
    if o.verdict == "violation" and not r.complete:
        verdict += f" (exploration stopped by {r.stopped_by})"
    w(f"Result: {verdict}\n")
    w(f"  {r.states:,} distinct states, {r.transitions:,} transitions, depth {r.depth}, "
      f"{r.seconds:.2f} s, {rate:,.0f} states/s\n")
    if o.reductions:
        w(f"  reductions: {', '.join(o.reductions)} (counts are of representatives; a trace "
          "may be longer than the shortest)\n")
    ends = ", ".join(f"{k} {v:,}" for k, v in sorted(r.terminal.items())) or "none"
    w(f"  end states: {ends}\n")
    if any(p.kind == "liveness" for p in o.props):
        w(f"  fairness: {o.fairness_text()}\n")
        if o.liveness:
            w(f"  liveness: {len(o.liveness)} properties in {o.liveness_seconds:.1f} s\n")
        else:
            w("  liveness: not checked (the exploration did not complete)\n")
    w("\nProperties\n")
    for p in o.props:
        st = o.status(p)
        extra = ""
        lasso = o.lasso(p)
        if lasso is not None:
            extra = (f"  {lasso.kind} of {lasso.instance}: lasso of {len(lasso.prefix) - 1} "
                     f"steps + a cycle of {len(lasso.cycle_actions)}")
        elif st == "violated":
            n = len(o.trace_steps(p) or [])
            kind = o.deadlock_kind()
            extra = f"  shortest counterexample: {n} steps" + (f" ({kind})" if kind else "")
        elif p.name in r.premise_seen and not r.premise_seen[p.name]:
            extra = "  (vacuous: its premise never held)"
        elif p.name in o.liveness and o.liveness[p.name].vacuous:
            extra = "  (vacuous: its premise never held)"
        w(f"  {p.name:22} {p.kind:9} {st.upper() if st == 'violated' else st}{extra}\n")
        w(f"  {'':22} {p.statement}\n")
    cov = o.coverage()
    fired = [n for n, c in cov.items() if c]
    never = [n for n, c in cov.items() if not c]
    w(f"\nCoverage: {len(fired)} of {len(cov)} actions fired")
    w(" (run with --coverage for counts)\n" if not coverage else "\n")
    if coverage:
        for n, c in sorted(cov.items(), key=lambda x: -x[1]):
            w(f"  {c:>12,}  {n}\n")
    if never:
        w("  never fired: " + ", ".join(never) + "\n")
    for p in o.props:
        st_list = o.trace_steps(p)
        if st_list is None:
            continue
        lasso = o.lasso(p)
        loop = o.loop_start(p)
        if lasso is not None and not lasso.cycle_actions:
            w(f"\nCounterexample for {p.name}: {lasso.kind} of {lasso.instance} "
              f"(source: {p.source})\n  {len(lasso.prefix) - 1} steps to a state no task can "
              f"leave; the run stutters there forever\n  under {o.fairness_text()}\n")
            loop = None
        elif lasso is not None:
            what = {"deadlock": "ends in a state no task can leave (the run stutters there)",
                    "livelock": "loops forever with no task reaching a progress point",
                    "starvation": "loops forever while others progress"}[lasso.kind]
            w(f"\nCounterexample for {p.name}: {lasso.kind} of {lasso.instance}, a lasso "
              f"(source: {p.source})\n  {len(lasso.prefix) - 1} steps to the loop, then "
              f"{len(lasso.cycle_actions)} steps that repeat forever; the run {what}\n"
              f"  under {o.fairness_text()}\n")
        else:
            w(f"\nCounterexample for {p.name} ({len(st_list)} steps; source: {p.source})\n")
        print_steps(st_list, out, loop)
        final = o.final_tasks(p) or {}
        where = "; ".join(f"{t} at {r['pc']} (state {r['state']}, {r['__state']})"
                          for t, r in final.items())
        label = {"deadlock": "stuck: no task can move",
                 "spin": "stuck: every enabled step is a spin"}.get(o.deadlock_kind() or "", "")
        if p.name == "no_deadlock" and label:
            w(f"  {label}\n")
        w(f"  last state: {where}\n")


def print_steps(steps_: list[Step], out: TextIO | None = None, loop: int | None = None) -> None:
    """The step table; with `loop`, steps after state `loop` form the cycle (marked '@')."""
    w = (out or sys.stdout).write
    w(f"  {'step':>4}  {'task':4} {'who':3} action  [citation]\n")
    for s in steps_:
        if loop is not None and s.index == loop + 1:
            w("  ---- the cycle starts here: the steps marked @ repeat forever ----\n")
        who = {"K": "ker", "U": "usr", "E": "env"}[s.actor]
        mark = "@" if loop is not None and s.index > loop else " "
        w(f" {mark}{s.index:>4}  {s.task:4} {who:3} {s.action}  [{s.citation}]\n")
        for n, a, b in s.changed:
            w(f"  {'':4}  {'':4} {'':3}   {n}: {a} -> {b}\n")


def _check_trace_dir(d: str, opt: str = "--trace-dir") -> None:
    """Refuse an output directory that could not be written, before any exploring."""
    if not d:
        raise UsageError(f"{opt}: empty path")
    if os.path.exists(d):
        if not os.path.isdir(d):
            raise UsageError(f"{opt} {d}: exists and is not a directory")
        if not os.access(d, os.W_OK | os.X_OK):
            raise UsageError(f"{opt} {d}: not writable")
        return
    parent = os.path.dirname(os.path.abspath(d))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(f"{opt} {d}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{opt} {d}: {parent} is not writable")


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    try:
        reduce = None if args.reduce is None else reductions.parse(args.reduce)
    except reductions.ReductionError as e:
        raise UsageError(str(e)) from None
    if args.max_states is not None and args.max_states < 1:
        raise UsageError("--max-states must be at least 1")
    if args.max_seconds is not None and not (math.isfinite(args.max_seconds)
                                             and args.max_seconds > 0):
        raise UsageError("--max-seconds must be positive")
    if args.max_memory is not None and not (math.isfinite(args.max_memory)
                                            and args.max_memory > 0):
        raise UsageError("--max-memory must be a positive number of GiB")
    if args.max_memory is not None and (args.engine or cfg.engine) != "native":
        raise UsageError("--max-memory limits the native engine only: add --engine native")
    if args.trace_dir is not None:
        _check_trace_dir(args.trace_dir)
    if args.report is not None and (args.engine or cfg.engine) == "native":
        raise UsageError("--report needs the explored states: use --engine python")
    if args.report is not None:
        _check_trace_dir(args.report, "--report")
    limits = Limits(args.max_states if args.max_states is not None else cfg.max_states,
                    args.max_seconds if args.max_seconds is not None else cfg.max_seconds,
                    None if args.max_memory is None else int(args.max_memory * 2**30))
    if not args.quiet:
        print(f"umcg-check: exploring {cfg.name} ({cfg.version})...", file=sys.stderr)
    o = check(cfg, limits, progress=not args.quiet, liveness=not args.no_liveness,
              reduce=reduce, engine=args.engine)
    if args.trace_dir:
        for p in o.props:
            doc = o.itf(p)
            if doc is not None:
                path = os.path.join(args.trace_dir, f"{cfg.name}.{p.name}.itf.json")
                try:
                    write_json_atomic(path, doc)
                except OSError as e:
                    raise UsageError(f"--trace-dir: cannot write {path}: {e.strerror}") from None
                if not args.quiet:
                    print(f"umcg-check: wrote {path}", file=sys.stderr)
    if args.report is not None:
        from checker.report import write_report  # issue 6

        path = write_report(o, args.report)
        if not args.quiet:
            print(f"umcg-check: wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(outcome_json(o), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_human(o, args.coverage)
    return o.exit_code


# --------------------------------------------------------------------------- list-actions


def action_rows(cfg_path: str | None, version: str | None = None) -> list[dict[str, Any]]:
    cfg = load(cfg_path)
    if version is not None:
        if version not in VERSIONS:
            raise UsageError(f"--version {version!r}: must be one of {', '.join(VERSIONS)}")
        cfg = dataclasses.replace(cfg, version=version)
    model, _ = build_model(cfg)
    rows: dict[str, dict[str, Any]] = {}
    for a in model.spec.actions:
        r = rows.setdefault(a.name, {"name": a.name, "actor": a.actor, "instances": 0,
                                     "function": a.source.function, "file": a.source.file,
                                     "steps": [], "section": a.source.section,
                                     "version": a.source.version})
        r["instances"] += 1
        if a.source.step not in r["steps"]:
            r["steps"].append(a.source.step)
    return list(rows.values())


def cmd_list_actions(args: argparse.Namespace) -> int:
    rows = action_rows(args.config, args.version)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.markdown:
        print(markdown_actions(rows, args.version or load(args.config).version))
        return 0
    print(f"{'action':58} {'who':3} {'n':>3}  citation")
    for r in rows:
        print(f"{r['name']:58} {r['actor']:3} {r['instances']:>3}  {r['version']} {r['file']}:"
              f"{r['function']} {'; '.join(r['steps'])} [{r['section']}]")
    return 0


def markdown_actions(rows: list[dict[str, Any]], version: str = "v0.2") -> str:
    flag = "" if version == "v0.2" else f" --version {version}"
    lines = [f"<!-- generated by `umcg-check list-actions{flag} --markdown`; do not edit -->",
             f"# Actions of the {version} model (default configuration)", "",
             "`who`: K kernel, U user space, E environment. `n`: instances (per task, target, "
             "head address) in the default configuration.", "",
             "| action | who | n | source (version, file, function, step, semantics §) |",
             "|---|---|---|---|"]
    for r in rows:
        steps_ = "; ".join(s.replace("|", "\\|") for s in r["steps"])
        lines.append(f"| `{r['name']}` | {r['actor']} | {r['instances']} | {r['version']} "
                     f"`{r['file']}` `{r['function']}`: {steps_} {r['section']} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        if args.command == "check":
            return cmd_check(args)
        if args.command == "list-actions":
            return cmd_list_actions(args)
        return args.func(args)
    except (ConfigError, UsageError, InputFileError, NativeError) as e:
        print(f"umcg-check: error: {e}", file=sys.stderr)
        return 2
    except ModelError as e:
        print(f"umcg-check: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("umcg-check: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `umcg-check check | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    # Under `python -m checker.cli` this file is __main__; run the checker.cli copy so that
    # the UsageError plugins import from checker.cli is the class main() catches.
    from checker.cli import main as _main

    sys.exit(_main())


__all__ = ["main", "VERSIONS"]
