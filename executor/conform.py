"""Conformance: the executor's recorded execution must be a path of the model.

For each record (task, action, state after), the model must have an enabled action of that
name and task, from the state the path reached, whose resulting state equals the executor's
state on every state variable (full-state agreement: user memory, kernel task state,
program counters and locals).  This module is the only part of the executor that builds
the model, and it reads the model only as a transition relation."""

from __future__ import annotations

from typing import Any

from checker.compile import compile_spec
from checker.trace import itf_value
from executor.kernel import Record
from model.v0_2 import Model


class Divergence(Exception):
    """The executor took a step the model does not have, or reached another state."""


class Conformance:
    def __init__(self, model: Model) -> None:
        self.model = model
        spec = model.spec
        self.spec = spec
        self.successors = compile_spec(spec).successors
        self.task_index = {n: i for i, n in enumerate(spec.task_names)}
        self.spell: list[dict[Any, int]] = []
        for v in spec.vars:
            d = v.domain
            self.spell.append({itf_value(v, x, model.fmt): x for x in range(d.lo, d.hi + 1)})
        self.visited: set[bytes] = set()
        self.reset()

    def reset(self) -> None:
        self.s = self.spec.init_state()
        self.n = 0
        self.visited.add(self.s)

    def show(self, s: bytes) -> dict[str, Any]:
        m = self.model
        return {v.name: itf_value(v, s[v.slot], m.fmt) for v in self.spec.vars}

    def encode(self, snap: dict[str, Any]) -> bytes | str:
        """The executor's state as a model state, or why it is none."""
        out = bytearray(len(self.spec.vars))
        for v, spell in zip(self.spec.vars, self.spell, strict=True):
            if v.name not in snap:
                return f"the executor reports no {v.name}"
            x = spell.get(snap[v.name])
            if x is None:
                return f"{v.name} = {snap[v.name]!r} is outside the model's domain"
            out[v.slot] = x
        extra = set(snap) - {v.name for v in self.spec.vars}
        if extra:
            return f"the executor reports variables the model lacks: {sorted(extra)}"
        return bytes(out)

    def check_init(self, snap: dict[str, Any]) -> None:
        enc = self.encode(snap)
        if enc != self.s:
            raise Divergence("initial state differs:\n" + self._diff(self.s, snap, enc))

    def check(self, rec: Record) -> None:
        self.n += 1
        ti = self.task_index.get(rec.task)
        acts = self.spec.actions
        succ = self.successors(self.s)
        cands = [(a, s2) for a, s2 in succ if acts[a].name == rec.action and acts[a].task == ti]
        enc = self.encode(rec.state)
        for _, s2 in cands:
            if s2 == enc:
                self.s = s2
                self.visited.add(s2)
                return
        head = f"step {self.n}: executor {rec.task} {rec.action}"
        if not cands:
            enabled = sorted({f"{self.spec.task_names[acts[a].task]} {acts[a].name}"
                              for a, _ in succ})
            raise Divergence(f"{head}\n  model: no enabled action {rec.action} for {rec.task};"
                             f" enabled: {', '.join(enabled) or 'none'}")
        def distance(c: tuple[int, bytes]) -> int:
            if not isinstance(enc, bytes):
                return 0
            return sum(x != y for x, y in zip(c[1], enc, strict=True))

        best = min(cands, key=distance)
        raise Divergence(f"{head}\n  model's {acts[best[0]].name} leads elsewhere:\n"
                         + self._diff(best[1], rec.state, enc))

    def _diff(self, s: bytes, snap: dict[str, Any], enc: bytes | str) -> str:
        lines = []
        if isinstance(enc, str):
            lines.append(f"  {enc}")
        model = self.show(s)
        for name, mv in model.items():
            ev = snap.get(name, "<missing>")
            if mv != ev:
                lines.append(f"  {name}: model {mv}, executor {ev}")
        return "\n".join(lines)


def model_choices(c: Conformance) -> set[tuple[str, str]]:
    """What the model can do next, in the executor's terms: (action or "step", task)."""
    acts, names = c.spec.actions, c.spec.task_names
    out = set()
    for a, _ in c.successors(c.s):
        act = acts[a]
        kind = act.name if act.actor == "E" else "step"
        out.add((kind, names[act.task]))
    return out
