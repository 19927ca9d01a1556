"""One check of one configuration: build the model, explore, and describe the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.config import Config
from checker.explore import DEADLOCKED, SPINNING, Explorer, Limits, Result
from checker.trace import Step, itf_trace, steps
from model.v0_2 import Model
from model.versions import VERSIONS
from properties.base import Property
from properties.v0_2 import properties as v0_2_properties


@dataclass
class Outcome:
    config: Config
    model: Model
    props: list[Property]
    explorer: Explorer
    result: Result

    @property
    def verdict(self) -> str:
        if self.result.violations:
            return "violation"
        return "ok" if self.result.complete else "incomplete"

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "violation": 1, "incomplete": 3}[self.verdict]

    def status(self, p: Property) -> str:
        if p.name in self.result.violations:
            return "violated"
        return "holds" if self.result.complete else "not-checked"

    def path(self, p: Property) -> list[tuple[int, bytes]] | None:
        i = self.result.violations.get(p.name)
        return None if i is None else self.explorer.path(i)

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
        return itf_trace(self.model.spec, self.model.fmt, path, meta)

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
            for field in ("pc", "state", "kstate"):
                v = m.v[field][t.index]
                row[field if field != "kstate" else "__state"] = m.fmt(v, s[v.slot])
            out[t.name] = row
        return out

    def coverage(self) -> dict[str, int]:
        cov: dict[str, int] = {}
        for a in self.model.spec.actions:
            cov[a.name] = cov.get(a.name, 0) + self.result.coverage[a.index]
        return cov


def build_model(cfg: Config) -> tuple[Model, list[Property]]:
    model = VERSIONS[cfg.version].build(cfg.params)
    props = v0_2_properties(model)
    if cfg.properties is not None:
        props = [p for p in props if p.name in cfg.properties]
    return model, props


def check(cfg: Config, limits: Limits | None = None, progress: bool = False) -> Outcome:
    model, props = build_model(cfg)
    limits = limits or Limits(cfg.max_states, cfg.max_seconds)
    ex = Explorer(model.spec, props, model.finished)
    res = ex.run(limits, progress=progress)
    return Outcome(cfg, model, props, ex, res)
