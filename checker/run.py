"""One check of one configuration: build the model, explore, and describe the outcome."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from checker.config import Config
from checker.explore import DEADLOCKED, SPINNING, Explorer, Limits, Result
from checker.graph import state_graph
from checker.liveness import Fairness, Lasso, LivenessProperty, LivenessResult, check_all
from checker.reductions import Reducer, describe
from checker.trace import Step, itf_trace, steps
from model.v0_2 import Model
from model.versions import VERSIONS
from properties.base import LIVENESS, Property
from properties.v0_2_liveness import liveness_properties
from properties.v0_2_liveness import progress as progress_expr
from properties.versions import safety_properties


@dataclass
class Outcome:
    config: Config
    model: Model
    props: list[Property]
    explorer: Explorer  # or checker/native.py NativeExplorer (paths only, no states)
    result: Result
    fairness: Fairness = field(default_factory=Fairness)
    liveness: dict[str, LivenessResult] = field(default_factory=dict)
    liveness_seconds: float = 0.0
    # Under reductions, liveness is decided on a second, unreduced exploration
    # (docs/reductions.md); its lassos index that explorer's states.
    live_explorer: Explorer | None = None

    @property
    def reductions(self) -> list[str]:
        r = self.explorer.reducer
        return [] if r is None else describe(r.which)

    @property
    def violated(self) -> list[str]:
        return [p.name for p in self.props if self.status(p) == "violated"]

    @property
    def verdict(self) -> str:
        if self.violated:
            return "violation"
        return "ok" if self.result.complete else "incomplete"

    def fairness_text(self) -> str:
        p = self.config.params
        return self.fairness.describe(self.model.spec, p.signals, p.preemptions, p.cpus)

    def lasso(self, p: Property) -> Lasso | None:
        r = self.liveness.get(p.name)
        return None if r is None else r.lasso

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "violation": 1, "incomplete": 3}[self.verdict]

    def status(self, p: Property) -> str:
        if p.kind == LIVENESS:
            r = self.liveness.get(p.name)
            if r is None:
                return "not-checked"
            return "violated" if r.lasso is not None else "holds"
        if p.name in self.result.violations:
            return "violated"
        return "holds" if self.result.complete else "not-checked"

    def path(self, p: Property) -> list[tuple[int, bytes]] | None:
        """The counterexample as [(action index, state)]; for a lasso, the prefix then the
        cycle (its last state is the loop's first state again)."""
        if p.kind == LIVENESS:
            lasso = self.lasso(p)
            if lasso is None:
                return None
            st = (self.live_explorer or self.explorer).states
            out = [(-1, st[lasso.prefix[0]])]
            out += [(a, st[i]) for a, i in zip(lasso.prefix_actions, lasso.prefix[1:],
                                               strict=True)]
            out += [(a, st[i]) for a, i in zip(lasso.cycle_actions, lasso.cycle[1:],
                                               strict=True)]
            return out
        i = self.result.violations.get(p.name)
        return None if i is None else self.explorer.path(i)

    def loop_start(self, p: Property) -> int | None:
        """For a lasso: the index (in path(p)) of the state where the cycle starts."""
        lasso = self.lasso(p)
        return None if lasso is None else len(lasso.prefix) - 1

    def trace_steps(self, p: Property) -> list[Step] | None:
        path = self.path(p)
        return None if path is None else steps(self.model.spec, self.model.fmt, path)

    def deadlock_kind(self) -> str | None:
        i = self.result.violations.get("no_deadlock")
        if i is None:
            return None
        for k in (DEADLOCKED, SPINNING):
            if self.result.first_terminal.get(k) == i:
                return k
        return None

    def itf(self, p: Property) -> dict[str, Any] | None:
        path = self.path(p)
        if path is None:
            return None
        meta = {"description": f"{p.name} violated: {p.statement}", "property": p.name,
                "config": self.config.name, "version": self.config.version}
        lasso = self.lasso(p)
        if lasso is None:
            return itf_trace(self.model.spec, self.model.fmt, path, meta)
        # ITF's loop: the last state is followed by states[loop].  The path ends on the
        # loop's first state again, so that state is dropped and its action kept in #meta.
        meta.update(fairness=self.fairness_text(), lasso=lasso.kind, instance=lasso.instance)
        if lasso.cycle_actions:
            meta["loop_closing_action"] = self.model.spec.actions[lasso.cycle_actions[-1]].name
            path = path[:-1]
        return itf_trace(self.model.spec, self.model.fmt, path, meta,
                         loop=len(lasso.prefix) - 1)

    def final_tasks(self, p: Property) -> dict[str, dict[str, str]] | None:
        """Where each task is in the last state of p's counterexample."""
        path = self.path(p)
        if path is None:
            return None
        s = path[-1][1]
        m = self.model
        out = {}
        for t in m.tasks:
            row = {}
            for name in ("pc", "state", "kstate"):
                v = m.v[name][t.index]
                row[name if name != "kstate" else "__state"] = m.fmt(v, s[v.slot])
            out[t.name] = row
        return out

    def coverage(self) -> dict[str, int]:
        cov: dict[str, int] = {}
        for a in self.model.spec.actions:
            cov[a.name] = cov.get(a.name, 0) + self.result.coverage[a.index]
        return cov


def liveness_of(model: Model, cfg: Config) -> list[LivenessProperty]:
    if not cfg.liveness:
        return []
    props = liveness_properties(model)
    if cfg.properties is not None:
        props = [p for p in props if p.name in cfg.properties]
    return props


def build_model(cfg: Config) -> tuple[Model, list[Property]]:
    model = VERSIONS[cfg.version].build(cfg.params)
    props = safety_properties(cfg.version, model)
    props += [Property(p.name, LIVENESS, p.statement, p.source)
              for p in liveness_of(model, cfg)]
    if cfg.properties is not None:
        props = [p for p in props if p.name in cfg.properties]
    return model, props


def check(cfg: Config, limits: Limits | None = None, progress: bool = False,
          liveness: bool = True, reduce: frozenset[str] | None = None,
          engine: str | None = None) -> Outcome:
    """``reduce`` (names from checker/reductions.py) and ``engine`` ("python" or "native",
    docs/native.md) override the configuration's."""
    model, props = build_model(cfg)
    limits = limits or Limits(cfg.max_states, cfg.max_seconds)
    which = cfg.reduce if reduce is None else reduce
    native = (engine or cfg.engine) == "native"
    if native:
        from checker.native import explore

        run = explore(model, props, limits, which, progress=progress,
                      max_memory=limits.max_memory)
        ex, res = run.explorer, run.result
    else:
        ex = Explorer(model.spec, props, model.finished,
                      reducer=Reducer(model, props, which) if which else None)
        res = ex.run(limits, progress=progress)
    fair = Fairness(tasks=cfg.fair_tasks, io=cfg.fair_io)
    out = Outcome(cfg, model, props, ex, res, fair)
    live = liveness_of(model, cfg) if liveness else []
    if live and res.complete:
        t0 = time.monotonic()
        lex = ex
        if which or native:
            # The native engine keeps no states here: liveness runs on the Python engine.
            if native and progress:
                print("umcg-check: liveness is decided on a Python exploration "
                      "(docs/native.md; --no-liveness skips it)", file=sys.stderr, flush=True)
            lex = Explorer(model.spec, props, model.finished)
            lex.run(limits, progress=progress)
            out.live_explorer = lex
        graph = state_graph(lex)
        results = check_all(model.spec, graph, lex.states, lex.parent, lex.via, live, fair,
                            progress_expr(model), verbose=progress)
        out.liveness = {r.property.name: r for r in results}
        out.liveness_seconds = time.monotonic() - t0
    elif not liveness:
        out.props = [p for p in props if p.kind != LIVENESS]
    return out

