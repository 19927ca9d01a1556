"""Run one workload on several versions: the property matrix and the observable outcomes
(what each task ends in) that some versions reach and others do not, each with a witness."""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from checker.compile import Compiled
from checker.config import Config
from checker.explore import Explorer, Limits
from checker.graph import state_graph
from checker.liveness import Fairness, check_all
from checker.run import Outcome, build_model, liveness_of
from checker.trace import Step, steps
from model.v0_2 import STATE_NAMES, Model
from model.v0_2.common import ERRNO
from properties.v0_2 import chain, on_list
from properties.v0_2_liveness import progress as progress_expr
from properties.versions import not_applicable


@dataclass
class VersionRun:
    version: str
    outcome: Outcome
    ends: dict[tuple[str, ...], int] = field(default_factory=dict)  # outcome -> state index
    seconds: float = 0.0
    # Filled by settle(): what compare prints, so the explored states can be dropped.
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    witness: dict[tuple[str, ...], list[Step]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.outcome.result.complete


def run_version(cfg: Config, version: str, limits: Limits, progress: bool,
                liveness: bool) -> VersionRun:
    """check() for `version`, also keeping every end state (no successor but itself)."""
    t0 = time.monotonic()
    cfg = dataclasses.replace(cfg, version=version)
    model, props = build_model(cfg)
    ex = Explorer(model.spec, props, model.finished)
    ends: list[bytes] = []
    real = ex.compiled.successors

    def succ(s: bytes) -> Any:
        out = real(s)
        if not out or all(t == s for _, t in out):
            ends.append(s)
        return out

    ex.compiled = Compiled(succ, ex.compiled.source)
    res = ex.run(limits, progress=progress)
    fair = Fairness(tasks=cfg.fair_tasks, io=cfg.fair_io)
    out = Outcome(cfg, model, props, ex, res, fair)
    live = liveness_of(model, cfg) if liveness else []
    if live and res.complete:
        graph = state_graph(ex)
        results = check_all(model.spec, graph, ex.states, ex.parent, ex.via, live, fair,
                            progress_expr(model), verbose=progress)
        out.liveness = {r.property.name: r for r in results}
    elif not liveness:
        out.props = [p for p in props if p.kind != "liveness"]
    vr = VersionRun(version, out)
    first: dict[tuple[str, ...], bytes] = {}
    describe = _describer(model, ex)
    for s in ends:  # BFS order: the first state with an outcome is its shortest witness
        key = describe(s)
        first.setdefault(key, s)
    where = {s: k for k, s in first.items()}
    for i, s in enumerate(ex.states):
        k = where.pop(s, None)
        if k is not None:
            vr.ends[k] = i
            if not where:
                break
    vr.seconds = time.monotonic() - t0
    settle(vr)
    return vr


def settle(vr: VersionRun) -> None:
    """Keep the matrix cells and the witness of every end outcome; free the explored states
    (several versions of a large workload would otherwise all stay in memory)."""
    o = vr.outcome
    names = [p.name for p in o.props] + list(not_applicable(vr.version))
    vr.cells = {n: status_cell(vr, n) for n in names}
    for k, i in vr.ends.items():
        vr.witness[k] = steps(o.model.spec, o.model.fmt, o.explorer.path(i))
    ex = o.explorer
    ex.states, ex.parent, ex.via = [], ex.parent[:0], ex.via[:0]
    o.liveness = {}


def _describer(m: Model, ex: Explorer):  # noqa: ANN202
    """An end state as a version-neutral outcome: how the run ended and what each task ends
    in (labels differ between versions, so a task's place is only user/kernel, its UMCG state
    word, asleep or not, and whether it sits on the idle-workers list)."""
    from checker.compile import compile_expr

    V, g = m.v, m.g
    iw = chain(m, 1, len(m.workers) + 1)
    on_iw: dict[int, Any] = {w.index: compile_expr(on_list(iw, 3 + 2 * w.index))
                             for w in m.workers}
    done, dead = m.labels.index("done"), m.labels.index("dead")
    kstart = m.kernel_labels.start

    def slot(x: Any) -> int:
        return x.slot

    def describe(s: bytes) -> tuple[str, ...]:
        died, aborted = s[slot(g["died"])], s[slot(g["aborted"])]
        if died or aborted:
            t = m.tasks[(died or aborted) - 1]
            if died:
                return ("halted", f"{t.name} killed by umcg_die() (SIGSEGV)")
            rv = ERRNO[s[slot(V["rv"][t.index])]]
            why = f"an unexpected {rv}" if rv != "0" else "a list/protocol state it cannot handle"
            return ("halted", f"{t.name} user space saw {why}")
        if ex.finished(s):
            return ("finished", "every worker ran its workload and exited")
        parts = ["stuck"]  # a deadlock, or only spins left
        for t in m.tasks:
            pc = s[slot(V["pc"][t.index])]
            if pc == done:
                parts.append(f"{t.name} done")
                continue
            if pc == dead:
                parts.append(f"{t.name} dead")
                continue
            where = "kernel" if pc >= kstart else "user space"
            st = STATE_NAMES[s[slot(V["state"][t.index])]]
            sleep = "asleep" if s[slot(V["kstate"][t.index])] else "runnable"
            extra = ", on the idle-workers list" if t.index in on_iw and on_iw[t.index](s) else ""
            parts.append(f"{t.name} {st} {sleep} in {where}{extra}")
        return tuple(parts)

    return describe


def status_cell(vr: VersionRun, name: str) -> dict[str, Any]:
    if vr.cells:
        return vr.cells.get(name, {"status": "not checked"})
    o = vr.outcome
    na = not_applicable(vr.version)
    if name in na:
        return {"status": "not applicable", "why": na[name]}
    p = next((p for p in o.props if p.name == name), None)
    if p is None:
        return {"status": "not checked"}
    st = o.status(p)
    if st == "not-checked" and not vr.complete:
        st = "incomplete"  # no violation in the part explored before the limit
    cell: dict[str, Any] = {"status": st}
    lasso = o.lasso(p)
    if lasso is not None:
        cell.update(kind=lasso.kind, instance=lasso.instance, prefix=len(lasso.prefix) - 1,
                    cycle=len(lasso.cycle_actions))
    elif st == "violated":
        cell["length"] = len(o.trace_steps(p) or [])
    r = o.result
    if st == "holds" and r.premise_seen.get(name) is False:
        cell["vacuous"] = True
    return cell


def cell_text(c: dict[str, Any]) -> str:
    st = c["status"]
    if st == "violated":
        if "cycle" in c:
            return f"VIOLATED {c['kind']} {c['prefix']}+{c['cycle']}"
        return f"VIOLATED ({c['length']})"
    if st == "not applicable":
        return "n/a"
    if c.get("vacuous"):
        return "holds (vacuous)"
    return st


def property_names(runs: list[VersionRun]) -> list[str]:
    names: dict[str, None] = {}
    for vr in runs:
        for p in vr.outcome.props:
            names.setdefault(p.name, None)
        for n in not_applicable(vr.version):
            names.setdefault(n, None)
    return list(names)


def differing_outcomes(runs: list[VersionRun]) -> list[dict[str, Any]]:
    """Outcomes some versions reach and others do not."""
    keys: dict[tuple[str, ...], None] = {}
    for vr in runs:
        for k in vr.ends:
            keys.setdefault(k, None)
    out = []
    for k in keys:
        reached = [vr for vr in runs if k in vr.ends]
        if len(reached) == len(runs):
            continue
        missing = [vr.version + ("" if vr.complete else " (run incomplete: unknown)")
                   for vr in runs if k not in vr.ends]
        witnesses = {}
        for vr in reached:
            witnesses[vr.version] = vr.witness[k]
        out.append({"outcome": list(k), "reached_by": [vr.version for vr in reached],
                    "not_reached_by": missing, "witness": witnesses})
    out.sort(key=lambda d: (d["outcome"][0] != "stuck", d["outcome"][0] != "halted",
                            min(len(w) for w in d["witness"].values())))
    return out


def step_json(s: Step) -> dict[str, Any]:
    return {"step": s.index, "task": s.task, "action": s.action, "citation": s.citation}


def progress_line(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"umcg-check: {msg}", file=sys.stderr, flush=True)

