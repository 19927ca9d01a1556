"""`umcg-check bmc | prove | race | operations`: the Z3 engine's commands (docs/z3.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from checker.cli import UsageError, _check_trace_dir, _step_json, print_steps
from checker.config import Config, load
from checker.explore import Explorer, Limits
from checker.files import read_json
from checker.run import build_model
from checker.trace import itf_trace, steps, write_json_atomic
from checker.z3enc import Encoder
from checker.z3engine import (
    Goal,
    Path,
    ProofResult,
    bmc,
    expr_goal,
    goals_of,
    houdini,
    k_induction,
    operations,
    race,
    race_exhaustive,
    spacer,
)
from checker.z3mine import Learner, describe, guess_expr, guesses
from model.v0_2 import Model
from properties.base import DEADLOCK, INVARIANT, Property
from properties.strengthening_v0_2 import LIBRARY

RAW = argparse.RawDescriptionHelpFormatter

EPILOG_BMC = """examples:
  umcg-check bmc configs/small.toml --depth 20
  umcg-check bmc configs/signal.toml --depth 14 --property INV-11 --trace-dir out/

exit codes: 0 -; 1 a property is violated within the depth; 2 bad input;
            3 no violation up to the depth (a bound, not a proof)"""

EPILOG_PROVE = """examples:
  umcg-check prove configs/default.toml --property INV-12
  umcg-check prove configs/default.toml --property INV-12 --k 3 \\
      --strengthen pc_labels,return_labels
  umcg-check prove configs/small.toml --engine spacer --timeout 60
  umcg-check prove configs/small.toml --property INV-12 --houdini
  umcg-check prove configs/small.toml --property INV-12 --proof docs/proofs/small.json
  umcg-check prove configs/small.toml --property INV-12 --projections --save-proof out.json
  umcg-check prove configs/default.toml --property INV-12 --proof docs/proofs/default.json \
      --jobs 2                                  # pairwise task views, ~17 min on 2 cores
  umcg-check prove configs/default.toml --property INV-3 --projections --views 2 \
      --no-minimize --jobs 2 --save-proof out.json

strengthening invariants (--strengthen): """ + ", ".join(LIBRARY) + """
A CTI (counterexample to induction) is not a bug: it is a state the proof could not rule
out.  Add strengthening invariants or raise --k.

exit codes: 0 every property proved; 1 a property is violated (a real trace);
            2 bad input; 3 some property neither proved nor violated (CTI, no answer)"""

EPILOG_RACE = """examples:
  umcg-check operations configs/wake-swap.toml
  umcg-check race configs/wake-swap.toml --between W0.block,W1.wake_only
  umcg-check race configs/default.toml --between W0.block,W1.wake_detect --engine both --depth 31
  umcg-check race configs/signal.toml --between W0.wake_detect,S0.take_idle --breaks INV-11

exit codes: 0 they never interleave (exhaustive search); 1 they interleave (witness
            shown); 2 bad input; 3 no interleaving within the z3 depth (a bound only)"""


def add_parser(sub: Any) -> None:
    b = sub.add_parser("bmc", help="bounded model checking with Z3 (shortest violation first)",
                       epilog=EPILOG_BMC, formatter_class=RAW)
    b.add_argument("config", help="TOML configuration")
    b.add_argument("--depth", type=int, required=True, metavar="K", help="steps to unroll")
    b.add_argument("--property", metavar="P", help="check only this property")
    b.add_argument("--max-seconds", type=float, metavar="S",
                   help="stop after S seconds; the depth reported is the last one checked")
    _common(b)
    b.set_defaults(func=cmd_bmc)

    p = sub.add_parser("prove", help="prove invariants by k-induction or Spacer (CHC)",
                       epilog=EPILOG_PROVE, formatter_class=RAW)
    p.add_argument("config", help="TOML configuration")
    p.add_argument("--property", metavar="P", help="prove only this invariant")
    p.add_argument("--k", type=int, default=1, metavar="K", help="largest k tried (default 1)")
    p.add_argument("--strengthen", metavar="NAMES", default="",
                   help="comma-separated strengthening invariants: " + ", ".join(LIBRARY))
    p.add_argument("--engine", choices=("kind", "spacer"), default="kind",
                   help="k-induction (default) or Z3's Spacer CHC engine")
    p.add_argument("--houdini", action="store_true",
                   help="k-induction with invariants Z3 keeps from guesses mined from the "
                   "explorer's states (Houdini); prints the ones the proof needs")
    p.add_argument("--projections", action="store_true",
                   help="1-induction strengthened with projection invariants of the explorer's "
                   "states (the values tuples of a few variables take), found from CTIs; "
                   "prints the ones the proof needs")
    p.add_argument("--save-proof", metavar="FILE",
                   help="--projections: write the proof's strengthening (JSON) to FILE")
    p.add_argument("--proof", metavar="FILE",
                   help="check a saved strengthening (from --save-proof): on the explorer's "
                   "states, then by 1-induction")
    p.add_argument("--no-seed", action="store_true",
                   help="--projections: start from the property alone (default: first state "
                   "every one- and two-term projection, and add each projection found for "
                   "the other tasks of its kind too)")
    p.add_argument("--views", type=int, default=0, metavar="K",
                   help="--projections: also state first, for every K tasks, the values "
                   "their variables and the shared ones take together (K=2: a pairwise, "
                   "thread-modular invariant; default 0: none)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="--projections, --proof: ask the first round of per-action queries "
                   "in N processes (default 1)")
    p.add_argument("--no-minimize", action="store_true",
                   help="--projections: keep every projection found (faster)")
    p.add_argument("--minimize-seconds", type=float, default=600.0, metavar="S",
                   help="--projections: Z3 time for showing each kept projection needed "
                   "(default 600); the ones left unexplained are kept")
    p.add_argument("--bfs-seconds", type=float, default=300.0, metavar="S",
                   help="time for the explicit search that checks strengthenings and mines "
                   "guesses (default 300)")
    p.add_argument("--max-rounds", type=int, default=3000, metavar="N",
                   help="--houdini: give up after N rounds per property (default 3000)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="S",
                   help="Spacer: give up after S seconds per property; --houdini: after S "
                   "seconds on one Z3 query (default 120)")
    _common(p)
    p.set_defaults(func=cmd_prove)

    r = sub.add_parser("race", help="can the steps of two operations interleave?",
                       epilog=EPILOG_RACE, formatter_class=RAW)
    r.add_argument("config", help="TOML configuration")
    r.add_argument("--between", required=True, metavar="OP1,OP2",
                   help="two operations (see `umcg-check operations CONFIG`)")
    r.add_argument("--breaks", metavar="P", help="only interleavings ending in a violation of P")
    r.add_argument("--depth", type=int, default=30, metavar="K",
                   help="z3: steps to unroll (default 30)")
    r.add_argument("--engine", choices=("bfs", "z3", "both"), default="bfs",
                   help="bfs: exhaustive search of the model x monitors (default; a 'no' is a "
                   "proof for the configuration); z3: bounded Z3 query; both: run both and "
                   "check that they agree")
    _common(r)
    r.add_argument("--outcomes", action="store_true",
                   help="instead: which outcomes do interleaved runs reach that no serial run "
                   "of the two operations reaches? (exhaustive)")
    r.add_argument("--project", metavar="VARS",
                   help="with --outcomes: the variables an outcome is made of, comma-separated "
                   "(default: user memory and the die/abort outcomes)")
    r.set_defaults(func=cmd_race)

    o = sub.add_parser("operations", help="list the operations `race` can name",
                       formatter_class=RAW,
                       epilog="example:\n  umcg-check operations configs/wake-swap.toml")
    o.add_argument("config", nargs="?", help="TOML configuration (default: configs/default.toml)")
    o.add_argument("--json", action="store_true", help="JSON on stdout")
    o.set_defaults(func=cmd_operations)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--trace-dir", metavar="DIR", help="write each trace as ITF JSON into DIR")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


# --------------------------------------------------------------------------- helpers


def _setup(args: argparse.Namespace) -> tuple[Config, Model, list[Property]]:
    cfg = load(args.config)
    depth = getattr(args, "depth", None)
    if depth is not None and not 0 <= depth <= 1000:
        raise UsageError("--depth must be in 0..1000")
    if getattr(args, "trace_dir", None) is not None:
        _check_trace_dir(args.trace_dir)
    model, props = build_model(cfg)
    return cfg, model, props


def _select(props: list[Property], name: str | None, invariants_only: bool) -> list[Property]:
    # Liveness properties need a fairness loop, which these engines do not encode.
    kinds = {INVARIANT} if invariants_only else {INVARIANT, DEADLOCK}
    pool = [p for p in props if p.kind in kinds]
    if name is None:
        return pool
    for p in pool:
        if p.name == name:
            return [p]
    raise UsageError(f"no {'invariant' if invariants_only else 'property'} {name!r} in this "
                     f"configuration (known: {', '.join(p.name for p in pool)})")


def _say(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"umcg-check: {msg}", file=sys.stderr, flush=True)


def _write_itf(args: argparse.Namespace, cfg: Config, model: Model, path: Path, stem: str,
               meta: dict[str, Any]) -> None:
    if not args.trace_dir:
        return
    doc = itf_trace(model.spec, model.fmt, path,
                    dict(meta, config=cfg.name, version=cfg.version, engine="z3"))
    out = os.path.join(args.trace_dir, f"{cfg.name}.{stem}.itf.json")
    try:
        write_json_atomic(out, doc)
    except OSError as e:
        raise UsageError(f"--trace-dir: cannot write {out}: {e.strerror}") from None
    _say(args, f"wrote {out}")


def _state_line(model: Model, s: bytes) -> str:
    return "; ".join(f"{t.name} at {model.fmt(model.pc(t.index), s[model.pc(t.index).slot])}"
                     for t in model.tasks)


def _emit(args: argparse.Namespace, doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


# --------------------------------------------------------------------------- bmc


def cmd_bmc(args: argparse.Namespace) -> int:
    cfg, model, props = _setup(args)
    chosen = _select(props, args.property, invariants_only=False)
    enc = Encoder(model.spec)
    goals = goals_of(enc, chosen, model.finished)
    _say(args, f"bmc {cfg.name} ({cfg.version}) to depth {args.depth}...")

    def progress(d: int, secs: float) -> None:
        if not args.quiet and (d % 5 == 0 or secs > 1.0):
            print(f"  depth {d}: {secs:.2f} s", file=sys.stderr, flush=True)

    if args.max_seconds is not None and not args.max_seconds > 0:
        raise UsageError("--max-seconds must be positive")
    res = bmc(model.spec, goals, args.depth, progress=progress, max_seconds=args.max_seconds)
    per_depth = [round(b - a, 3) for a, b in zip([0.0, *res.seconds], res.seconds, strict=False)]
    for name, path in res.violations.items():
        _write_itf(args, cfg, model, path, f"bmc.{name}",
                   {"description": f"{name} violated (Z3 BMC, shortest)", "property": name})
    verdict = "violation" if res.violations else "bounded"
    if args.json:
        entries = []
        for p in chosen:
            path = res.violations.get(p.name)
            e: dict[str, Any] = {"name": p.name, "kind": p.kind, "statement": p.statement,
                                 "status": "violated" if path else f"holds-to-depth-{res.depth}"}
            if path:
                e["length"] = len(path) - 1
                e["trace"] = [_step_json(s) for s in steps(model.spec, model.fmt, path)]
            entries.append(e)
        _emit(args, {"engine": "z3-bmc", "config": cfg.name, "version": cfg.version,
                     "result": verdict, "depth": res.depth, "stopped_by": res.stopped_by,
                     "seconds_per_depth": per_depth,
                     "seconds": round(res.seconds[-1], 3) if res.seconds else 0.0,
                     "properties": entries})
    else:
        total = res.seconds[-1] if res.seconds else 0.0
        print(f"umcg-check bmc {cfg.version}  config {cfg.name}  depth {res.depth}  "
              f"({total:.2f} s)")
        stop = " (stopped by --max-seconds)" if res.stopped_by else ""
        print("Result: " + ("VIOLATION" if res.violations else
                            f"no violation within {res.depth} steps (a bound, not a proof)")
              + stop)
        for p in chosen:
            path = res.violations.get(p.name)
            st = f"VIOLATED in {len(path) - 1} steps" if path else f"holds to depth {res.depth}"
            print(f"  {p.name:20} {p.kind:9} {st}")
        for name, path in res.violations.items():
            print(f"\nCounterexample for {name} ({len(path) - 1} steps, Z3 BMC, replayed "
                  "through model/eval.py)")
            print_steps(steps(model.spec, model.fmt, path))
            print(f"  last state: {_state_line(model, path[-1][1])}")
    return 1 if res.violations else 3


# --------------------------------------------------------------------------- prove


def _strengthening(enc: Encoder, model: Model, names: str) -> list[Goal]:
    out = []
    for n in (x.strip() for x in names.split(",")):
        if not n:
            continue
        if n not in LIBRARY:
            raise UsageError(f"--strengthen: unknown invariant {n!r} (known: "
                             f"{', '.join(LIBRARY)})")
        s = LIBRARY[n]
        out.append(expr_goal(enc, n, s.build(model), s.statement))
    return out


def _refute_by_bfs(args: argparse.Namespace, model: Model,
                   extra: list[Goal]) -> ProofResult | None:
    """Check every strengthening invariant on the explorer's states first: one that a
    reachable state breaks is reported with its (shortest) path, never assumed."""
    if not extra:
        return None
    _say(args, "checking the strengthening invariants on the explorer's states...")
    ex = Explorer(model.spec, [Property(g.name, INVARIANT, g.statement, "strengthening",
                                        g.expr) for g in extra], model.finished)
    r = ex.run(Limits(max_seconds=args.bfs_seconds))
    if not r.violations:
        if not r.complete:
            _say(args, f"  the explorer stopped after {r.states:,} states "
                 f"({r.stopped_by}): no counterexample among them")
        return None
    name, i = next(iter(r.violations.items()))
    return ProofResult(name, "strengthening-fails", "explorer", path=ex.path(i),
                       failing=[name], strengthening=[g.name for g in extra],
                       detail="a reachable state breaks it (explicit search)")


class _Mined:
    """Guesses mined from the explorer's states, shared by the properties of one run."""

    def __init__(self, args: argparse.Namespace, model: Model) -> None:
        self.args, self.model = args, model
        _say(args, "exploring the configuration for guesses...")
        ex = Explorer(model.spec, [], model.finished)
        r = ex.run(Limits(max_seconds=args.bfs_seconds))
        if not r.complete:
            raise UsageError(f"--houdini needs the whole state space; the explorer stopped "
                             f"after {r.states:,} states ({r.stopped_by}); raise --bfs-seconds")
        self.terms, self.guesses = guesses(model, ex.states)
        self.learn = Learner(self.terms, ex.states)
        _say(args, f"  {r.states:,} states, {len(self.guesses):,} guesses")
        self.used: dict[str, list[str]] = {}
        self.views: dict[Any, tuple[str, ...]] = {}  # task view -> its tasks

    def prove(self, enc: Encoder, g: Goal) -> ProofResult:
        args = self.args

        def progress(rounds: int, active: int, weakened: int) -> None:
            if not args.quiet and rounds % 50 == 0:
                print(f"  round {rounds}: {active} guesses active, {weakened} weakened",
                      file=sys.stderr, flush=True)

        hr = houdini(self.model.spec, g, [t.expr for t in self.terms], self.guesses,
                     progress=progress, max_rounds=args.max_rounds, learn=self.learn,
                     check_timeout_s=args.timeout)
        if hr.proof.status != "proved":
            return hr.proof
        # The proof as shown: 1-induction of the property with the needed guesses as
        # strengthening invariants, checked again from scratch.
        self.guesses += hr.learned
        used = hr.used
        names = [describe(self.terms, x) for x in used]
        strong = [expr_goal(enc, n, guess_expr(self.terms, x)) for n, x in zip(names, used,
                                                                                strict=True)]
        r = k_induction(self.model.spec, g, strong, max_k=1)
        if r.status != "proved":
            raise RuntimeError(f"Houdini's invariant for {g.name} does not re-check: {r.status}")
        r.engine = "houdini"
        r.detail = hr.proof.detail
        r.seconds += hr.proof.seconds
        self.used[g.name] = names
        return r


def _check_out_file(path: str) -> None:
    """Refuse an output file that could not be written, before any work."""
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"--save-proof {path}: is a directory")
    while not os.path.exists(d):
        d = os.path.dirname(d)
    if not os.path.isdir(d) or not os.access(d, os.W_OK | os.X_OK):
        raise UsageError(f"--save-proof {path}: {d} is not a writable directory")


def _domain_size(t: Any) -> int:
    """How many values a term can take (a slot's domain; a list node: a byte)."""
    from model.lang import Ref, Var

    e = t.expr
    if isinstance(e, Ref) and isinstance(e.var, Var):
        return e.var.domain.hi - e.var.domain.lo + 1
    return 256


class _Projections:
    """Proofs by 1-induction with projection invariants (checker/z3proj.py): found from
    CTIs (--projections) or read from a file (--proof); the explorer's states come first."""

    def __init__(self, args: argparse.Namespace, model: Model) -> None:
        from checker.z3mine import terms
        from checker.z3proj import Reach, from_json

        self.args, self.model = args, model
        self.loaded = None
        if args.proof is not None:
            doc = read_json(args.proof, f"--proof {args.proof}")
            if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
                raise UsageError(f"--proof {args.proof}: no 'properties' object (write it with "
                                 "--save-proof)")
            self.loaded = doc
        _say(args, "exploring the configuration (the projections are taken from, and "
             "checked on, its states)...")
        ex = Explorer(model.spec, [], model.finished)
        r = ex.run(Limits(max_seconds=args.bfs_seconds))
        if not r.complete:
            raise UsageError(f"projection invariants need the whole state space; the explorer "
                             f"stopped after {r.states:,} states ({r.stopped_by}); raise "
                             "--bfs-seconds")
        self.nstates = r.states
        self.terms = terms(model)
        self.reach = Reach(self.terms, ex.states)
        self.from_json = from_json
        self.saved: dict[str, Any] = {}
        self.used: dict[str, list[str]] = {}
        self.views: dict[Any, tuple[str, ...]] = {}  # task view -> its tasks
        _say(args, f"  {r.states:,} states, {len(self.terms)} terms")

    def prove(self, g: Goal) -> ProofResult:
        from checker import z3proj

        args, spec = self.args, self.model.spec
        if self.loaded is not None:
            entry = self.loaded["properties"].get(g.name)
            if entry is None:
                raise UsageError(f"--proof {args.proof}: no strengthening for {g.name} (it has "
                                 f"{', '.join(self.loaded['properties']) or 'none'})")
            try:
                projs, _ = self.from_json(self.terms, entry, self.reach, self.views)
            except ValueError as e:
                raise UsageError(f"--proof {args.proof}: {g.name}: {e}") from None
            bad = self._refuted_on_states(g, projs)
            if bad is not None:
                return bad
            _say(args, f"  {len(projs)} projections hold in all {self.nstates:,} explored "
                 "states; 1-induction...")
            t = z3proj.prove(spec, g, self.reach, seed=projs, check_timeout_s=args.timeout,
                             minimize=False, learn=False, jobs=args.jobs,
                             progress=self._progress)
            used = projs
        else:
            progress = self._progress

            def mprogress(i: int, n: int, redo: int) -> None:
                if i == 0:
                    _say(args, f"  minimizing: {n} in the closure of the unsat cores, {redo} "
                         "without a concrete witness yet")
                elif i % 5 == 0:
                    _say(args, f"  minimizing: {i} asked again, {n} kept")

            seed: list[Any] = []
            images = None
            tasks = [[t.name for t in self.model.servers], [t.name for t in self.model.workers]]
            if not args.no_seed:
                seed = self.reach.seeds([_domain_size(t) for t in self.terms])
                images = z3proj.task_images(self.terms, tasks)
                _say(args, f"  {len(seed)} one- and two-term projections stated first")
            if args.views:
                views = z3proj.task_views(self.terms, self.reach, tasks[0] + tasks[1],
                                          args.views)
                self.views.update(views)
                cover = [set(v.terms) for v in views]
                seed = [p for p in seed if not any(set(p.terms) <= c for c in cover)] + list(views)
                _say(args, f"  {len(views)} views of {args.views} task(s) and the shared "
                     f"variables ({', '.join(f'{len(v.rows):,}' for v in views)} rows), "
                     f"{len(seed)} seeds in all")
            t = z3proj.prove(spec, g, self.reach, progress=progress, seed=seed,
                             companions=images, jobs=args.jobs,
                             check_timeout_s=args.timeout, minimize=not args.no_minimize,
                             minimize_progress=mprogress,
                             minimize_seconds=args.minimize_seconds)
            used = t.used
            if t.proof.status == "proved" and not args.no_minimize:
                # The proof as shown: the kept projections alone, checked again from scratch.
                _say(args, f"  re-checking the {len(used)} kept projections from scratch...")
                again = z3proj.prove(spec, g, self.reach, seed=used, minimize=False,
                                     learn=False, check_timeout_s=args.timeout,
                                     jobs=args.jobs)
                if again.proof.status != "proved":
                    raise RuntimeError(f"the kept projections for {g.name} do not re-check: "
                                       f"{again.proof.status} {again.proof.detail}")
                t.proof.seconds += again.proof.seconds
            if t.proof.status == "proved":
                self.saved[g.name] = z3proj.to_json(self.terms, used, t.witness,
                                                   self.views)
        r = t.proof
        if r.status == "proved":
            r.engine = "projections"
            names = [z3proj.describe(self.terms, p, view=self.views.get(p)) for p in used]
            r.strengthening = names
            self.used[g.name] = names
            r.detail = (f"{len(used)} projection invariants, each true in all "
                        f"{self.nstates:,} explored states; " + r.detail)
        return r

    def _progress(self, q: int, n: int, pending: int) -> None:
        _say(self.args, f"  {q} queries, {n} projections, {pending} actions to ask")

    def _refuted_on_states(self, g: Goal, projs: list[Any]) -> ProofResult | None:
        """A loaded projection that some explored state breaks is wrong: say which."""
        from checker import z3proj

        for n, p in enumerate(projs):
            if not self.reach.projection(p.terms).rows <= p.rows:
                return ProofResult(g.name, "strengthening-fails", "explorer",
                                       failing=[f"projection {n + 1}"],
                                       strengthening=[z3proj.describe(self.terms, p)],
                                       detail=f"projection {n + 1} "
                                       f"({', '.join(self.terms[k].name for k in p.terms)}) "
                                       "is false in a reachable state (explicit search)")
        return None

    def save(self, cfg: Config) -> None:
        if self.args.save_proof is None:
            return
        doc = {"config": cfg.name, "version": cfg.version, "method":
               "1-induction; each conjunct a projection of the explored states",
               "properties": self.saved}
        try:
            write_json_atomic(self.args.save_proof, doc)
        except OSError as e:
            raise UsageError(f"--save-proof: cannot write {self.args.save_proof}: "
                             f"{e.strerror}") from None
        _say(self.args, f"wrote {self.args.save_proof}")


def _how(r: ProofResult) -> str:
    if r.status != "proved":
        return ""
    if r.engine == "spacer":
        return "Spacer (CHC) found an inductive invariant"
    if r.engine == "projections":
        return (f"1-induction (k=1) with {len(r.strengthening)} projection invariants as "
                "strengthening (listed below), each checked on the explorer's states first")
    if r.engine == "houdini":
        return (f"1-induction with {len(r.strengthening)} strengthening invariants kept by "
                "Houdini from guesses mined from the explorer's states (listed below)")
    extra = (" with strengthening " + ", ".join(r.strengthening)) if r.strengthening else ""
    return f"{r.k}-induction{extra} (and every slot within its domain)"


def cmd_prove(args: argparse.Namespace) -> int:
    cfg, model, props = _setup(args)
    if not 1 <= args.k <= 50:
        raise UsageError("--k must be in 1..50")
    chosen = _select(props, args.property, invariants_only=True)
    if args.houdini and (args.engine != "kind" or args.strengthen):
        raise UsageError("--houdini finds its own strengthening for k-induction; it does not "
                         "go with --engine spacer or --strengthen")
    modes = [x for x, on in (("--houdini", args.houdini), ("--projections", args.projections),
                               ("--proof", args.proof is not None)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} are different proof methods; give one")
    if (args.projections or args.proof) and (args.engine != "kind" or args.strengthen
                                             or args.k != 1):
        raise UsageError(f"{modes[0]} is a 1-induction proof; it does not go with --engine "
                         "spacer, --strengthen or --k")
    if not args.minimize_seconds >= 0:
        raise UsageError("--minimize-seconds must be >= 0")
    if args.save_proof is not None and not args.projections:
        raise UsageError("--save-proof goes with --projections")
    if not 1 <= args.jobs <= 64:
        raise UsageError("--jobs must be in 1..64")
    if (args.views or args.no_seed) and not args.projections:
        raise UsageError("--views and --no-seed go with --projections")
    ntasks = len(model.servers) + len(model.workers)
    if not 0 <= args.views <= ntasks:
        raise UsageError(f"--views must be in 0..{ntasks} (the configuration has {ntasks} "
                         "tasks)")
    if args.save_proof is not None:
        _check_out_file(args.save_proof)
    if not 1 <= args.max_rounds <= 10**6:
        raise UsageError("--max-rounds must be in 1..1000000")
    enc = Encoder(model.spec)
    extra = _strengthening(enc, model, args.strengthen)
    refuted = _refute_by_bfs(args, model, extra)
    mined = _Mined(args, model) if args.houdini else None
    proj = _Projections(args, model) if args.projections or args.proof else None
    if proj is not None and proj.loaded is not None and args.property is None:
        chosen = [p for p in chosen if p.name in proj.loaded["properties"]]  # what it proves
    results: list[ProofResult] = []
    for g in goals_of(enc, chosen, None):
        _say(args, f"prove {g.name} ({'houdini' if mined else args.engine})...")
        if refuted is not None:
            r = refuted
        elif proj is not None:
            r = proj.prove(g)
        elif mined is not None:
            r = mined.prove(enc, g)
        elif args.engine == "spacer":
            r = spacer(model.spec, g, timeout_s=args.timeout)
        else:
            r = k_induction(model.spec, g, extra, max_k=args.k)
        results.append(r)
        if r.path is not None:
            kind = "violation" if r.status == "violated" else r.status
            _write_itf(args, cfg, model, r.path, f"prove.{g.name}.{kind}",
                       {"description": f"{g.name}: {kind} (Z3 {r.engine}, k={r.k})",
                        "property": g.name, "status": r.status, "failing": r.failing})
    if proj is not None:
        proj.save(cfg)
    if args.json:
        entries = []
        for r in results:
            e: dict[str, Any] = {"name": r.goal, "status": r.status, "engine": r.engine,
                                 "k": r.k, "strengthening": r.strengthening,
                                 "seconds": round(r.seconds, 3), "how": _how(r),
                                 "detail": r.detail}
            if r.path is not None:
                e["failing"] = r.failing
                e["trace"] = [_step_json(s) for s in steps(model.spec, model.fmt, r.path)]
                e["first_state"] = _state_line(model, r.path[0][1])
            entries.append(e)
        method = "houdini" if mined else "projections" if proj else args.engine
        _emit(args, {"engine": f"z3-{method}",
                     "config": cfg.name, "version": cfg.version, "properties": entries})
    else:
        engine = "houdini" if mined else "projections (1-induction)" if proj else args.engine
        print(f"umcg-check prove {cfg.version}  config {cfg.name}  engine {engine}"
              + (f"  k<={args.k}" if engine == "kind" else ""))
        if extra:
            print("  strengthening: " + ", ".join(g.name for g in extra))
        for r in results:
            label = {"proved": "PROVED", "violated": "VIOLATED", "cti": "CTI (not a bug)",
                     "strengthening-fails": "STRENGTHENING FAILS",
                     "unknown": "UNKNOWN"}[r.status]
            print(f"  {r.goal:20} {label}  ({r.seconds:.2f} s)  {_how(r) or r.detail}")
        for r in results:
            if r.engine == "projections" and r.status == "proved":
                print(f"\nStrengthening invariants of the proof of {r.goal} ({r.detail}). "
                      "Z3 showed, one action at a time, that from any state satisfying the "
                      "property, all of these and the slot domains, every step keeps them all; "
                      "the initial state satisfies them:")
                for n, x in enumerate(r.strengthening):
                    print(f"  P{n + 1}  {x}")
            if r.engine == "houdini" and r.status == "proved":
                print(f"\nStrengthening invariants of the proof of {r.goal} ({r.detail}; each "
                      "holds in every reachable state, as the proof shows):")
                for n in r.strengthening:
                    print(f"  {n}")
        for r in results:
            if r.path is None:
                continue
            print()
            if r.status == "violated":
                print(f"Counterexample for {r.goal} ({len(r.path) - 1} steps from the initial "
                      "state; a real violation)")
            elif r.status == "strengthening-fails":
                print(f"Strengthening {', '.join(r.failing)} does not hold: reachable "
                      f"counterexample ({len(r.path) - 1} steps). Drop it.")
            else:
                print(f"Counterexample to induction for {r.goal} (k={r.k}): the first {r.k} "
                      "state(s) satisfy the property, the strengthening and the domains; the "
                      f"last breaks {', '.join(r.failing)}. The first state is not known to "
                      "be reachable: this is no bug, the proof needs a stronger invariant.")
                print(f"  first state: {_state_line(model, r.path[0][1])}")
            print_steps(steps(model.spec, model.fmt, r.path))
    if any(r.status == "violated" for r in results):
        return 1
    return 0 if all(r.status == "proved" for r in results) else 3


# --------------------------------------------------------------------------- race


def cmd_race(args: argparse.Namespace) -> int:
    cfg, model, props = _setup(args)
    names = [x.strip() for x in args.between.split(",")]
    if len(names) != 2 or not all(names):
        raise UsageError("--between takes two operations: OP1,OP2")
    ops = operations(model)
    for n in names:
        if n not in ops:
            raise UsageError(f"--between: no operation {n!r} in this configuration (see "
                             f"`umcg-check operations {args.config}`)")
    if args.outcomes:
        return cmd_race_outcomes(args, cfg, model, ops[names[0]], ops[names[1]])
    if args.project is not None:
        raise UsageError("--project only goes with --outcomes")
    breaks: Goal | None = None
    breaks_p: Property | None = None
    if args.breaks is not None:
        breaks_p = _select(props, args.breaks, invariants_only=True)[0]
        breaks = goals_of(Encoder(model.spec), [breaks_p], None)[0]
    _say(args, f"race {names[0]} / {names[1]} in {cfg.name} ({args.engine})...")
    results = {}
    if args.engine in ("bfs", "both"):
        results["bfs"] = race_exhaustive(model.spec, ops[names[0]], ops[names[1]],
                                         None if breaks_p is None else breaks_p.expr)
    if args.engine in ("z3", "both"):
        depth = args.depth
        if "bfs" in results and results["bfs"].found:
            depth = min(depth, results["bfs"].depth)
        results["z3"] = race(model.spec, ops[names[0]], ops[names[1]], depth, breaks)
    if len(results) == 2:
        b, z = results["bfs"], results["z3"]
        agree = (b.found and z.found and b.depth == z.depth) or (not z.found and (
            not b.found or b.depth > z.depth))
        if not agree:
            raise RuntimeError(f"race engines disagree: bfs {b.found}/{b.depth}, "
                               f"z3 {z.found}/{z.depth}")
    r = results.get("z3") if args.engine == "z3" else results["bfs"]
    assert r is not None
    exhaustive = args.engine != "z3"
    if r.found and r.path is not None:
        _write_itf(args, cfg, model, r.path, f"race.{names[0]}.{names[1]}",
                   {"description": f"{r.inside} (Z3 race query)", "steps": r.cut,
                    "breaks": args.breaks})
    if args.json:
        doc: dict[str, Any] = {"engine": "z3-race", "config": cfg.name, "version": cfg.version,
                               "between": names, "breaks": args.breaks, "found": r.found,
                               "depth": r.depth, "engine_used": sorted(results),
                               "exhaustive": exhaustive,
                               "seconds": {k: round(v.seconds, 3) for k, v in results.items()}}
        if r.found and r.path is not None:
            doc.update(inside=r.inside, interleaving_steps=r.cut,
                       trace=[_step_json(s) for s in steps(model.spec, model.fmt, r.path)])
        _emit(args, doc)
    else:
        tail = f", ending in a violation of {args.breaks}" if args.breaks else ""
        print(f"umcg-check race {cfg.version}  config {cfg.name}  {names[0]} / {names[1]}"
              f"{tail}")
        if r.found and r.path is not None:
            how = "; ".join(f"{k} {v.seconds:.2f} s" for k, v in results.items())
            print(f"Answer: YES: {r.inside}, shortest witness {r.depth} steps "
                  f"(interleaving at steps {', '.join(map(str, r.cut))}; replayed through "
                  f"model/eval.py; {how})")
            print_steps(steps(model.spec, model.fmt, r.path))
            print(f"  last state: {_state_line(model, r.path[-1][1])}")
        else:
            if exhaustive:
                n = getattr(results["bfs"], "states", 0)
                print(f"Answer: NO{tail}: exhaustive search of {n:,} states of the model x "
                      f"monitors ({results['bfs'].seconds:.2f} s); a proof for this "
                      "configuration")
            else:
                print(f"Answer: NO interleaving within {r.depth} steps{tail} "
                      f"({r.seconds:.2f} s; a bound, not a proof)")
    if r.found:
        return 1
    return 0 if exhaustive else 3


def cmd_race_outcomes(args: argparse.Namespace, cfg: Config, model: Model, op1: Any,
                      op2: Any) -> int:
    from checker.serial import outcomes

    if args.breaks is not None:
        raise UsageError("--breaks and --outcomes ask different questions; give one")
    project = None
    if args.project is not None:
        by_name = {v.name: v for v in model.spec.vars}
        names = [x.strip() for x in args.project.split(",") if x.strip()]
        missing = [x for x in names if x not in by_name]
        if not names or missing:
            raise UsageError(f"--project: no variable {missing[0] if missing else '(empty)'!r}"
                             " (variable names as in a trace, e.g. W0.state,IWH)")
        project = [by_name[x] for x in names]
    _say(args, f"race --outcomes {op1.name} / {op2.name} in {cfg.name}...")
    r = outcomes(model.spec, op1, op2, project)
    coupled = r.serial == 0
    if r.witness is not None:
        _write_itf(args, cfg, model, r.witness, f"outcome.{op1.name}.{op2.name}",
                   {"description": "an outcome no serial order of the two operations reaches"})
    if args.json:
        doc: dict[str, Any] = {
            "engine": "serial-outcomes", "config": cfg.name, "version": cfg.version,
            "between": [op1.name, op2.name], "project": r.project,
            "serial_outcomes": r.serial, "interleaved_outcomes": r.interleaved,
            "only_interleaved": len(r.only_interleaved), "coupled": coupled,
            "states": r.states, "seconds": round(r.seconds, 3)}
        if r.witness is not None and not coupled:
            doc["trace"] = [_step_json(x) for x in steps(model.spec, model.fmt, r.witness)]
        _emit(args, doc)
    else:
        print(f"umcg-check race --outcomes {cfg.version}  config {cfg.name}  "
              f"{op1.name} / {op2.name}")
        print(f"  outcome = ({', '.join(r.project)})")
        print(f"  {r.serial} distinct outcomes reached by serial runs, {r.interleaved} by "
              f"interleaved runs; exhaustive over {r.states:,} states of the model x monitors "
              f"({r.seconds:.2f} s)")
        if coupled:
            print("Answer: VOID: no run completes both operations without interleaving them "
                  "(they are coupled), so there are no serial outcomes to compare with")
        elif r.witness is None:
            print("Answer: NO: every outcome of an interleaved run is also reached serially "
                  "(a proof for this configuration)")
        else:
            print(f"Answer: YES: {len(r.only_interleaved)} outcome(s) only interleaving "
                  f"reaches; the shortest run to one ({len(r.witness) - 1} steps, replayed "
                  "through model/eval.py):")
            print_steps(steps(model.spec, model.fmt, r.witness))
            print(f"  last state: {_state_line(model, r.witness[-1][1])}")
    if coupled:
        return 3
    return 1 if r.witness is not None else 0


# --------------------------------------------------------------------------- operations


def cmd_operations(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    model, _ = build_model(cfg)
    ops = operations(model)
    if args.json:
        _emit(args, [{"name": o.name, "task": model.spec.task_names[o.task],
                      "actions": len(o.actions), "labels": list(o.labels),
                      "action_names": sorted({model.spec.actions[i].name for i in o.actions})}
                     for o in ops.values()])
        return 0
    print(f"{'operation':22} {'n':>4}  labels (actions at these pcs)")
    for o in ops.values():
        labs = ", ".join(x[2:] if x[:2] in ("u:", "k:") else x for x in o.labels) or \
            ", ".join(sorted({model.spec.actions[i].name for i in o.actions}))
        print(f"{o.name:22} {len(o.actions):>4}  {labs}")
    return 0


