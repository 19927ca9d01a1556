"""Drive a model by hand: look at variables by name, take named steps, replay traces.

Used by the tests of individual actions and to replay a trace given as action names."""

from __future__ import annotations

from model.eval import apply, enabled, value
from model.lang import Action, Expr, Spec, Var


class StepError(Exception):
    pass


class Sim:
    def __init__(self, spec: Spec, fmt=None, state: bytes | None = None) -> None:
        self.spec = spec
        self.fmt = fmt or (lambda v, x: str(x))
        self.s = state if state is not None else spec.init_state()
        self.trail: list[Action] = []
        self._by_name = {v.name: v for v in spec.vars}

    # reading and editing -----------------------------------------------------------
    def var(self, name: str) -> Var:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no variable {name!r}") from None

    def __getitem__(self, name: str) -> int:
        return self.s[self.var(name).slot]

    def show(self, name: str) -> str:
        v = self.var(name)
        return self.fmt(v, self.s[v.slot])

    def set(self, **values: int) -> Sim:
        """A copy with variables changed; the first "__" stands for ".":
        W0__state is W0.state, W0____state is W0.__state."""
        t = bytearray(self.s)
        for k, x in values.items():
            v = self.var(k.replace("__", ".", 1))
            if not v.domain.contains(x):
                raise ValueError(f"{v.name} = {x} outside its domain")
            t[v.slot] = x
        return Sim(self.spec, self.fmt, bytes(t))

    def eval(self, e: Expr) -> int:
        return value(e, self.s)

    # stepping ---------------------------------------------------------------------------
    def enabled(self, task: str | None = None) -> list[Action]:
        if value(self.spec.halt, self.s):
            return []
        ti = None if task is None else self.spec.task_names.index(task)
        return [a for a in self.spec.actions
                if (ti is None or a.task == ti) and enabled(a, self.s)]

    def names(self, task: str | None = None) -> list[str]:
        return [a.name for a in self.enabled(task)]

    def step(self, task: str, name: str, **params: int) -> Sim:
        """Take the one enabled step of `task` called `name` (params narrow it down)."""
        cands = [a for a in self.enabled(task) if a.name == name
                 and all(a.params.get(k) == v for k, v in params.items())]
        if len(cands) != 1:
            raise StepError(f"{task}: {len(cands)} enabled actions named {name!r} "
                            f"(enabled: {self.names(task)})")
        self.s = apply(cands[0], self.s)
        self.trail.append(cands[0])
        return self

    def run(self, task: str, until: str, limit: int = 200) -> Sim:
        """Let `task` alone take its first enabled step until its pc shows `until`."""
        for _ in range(limit):
            if self.show(f"{task}.pc") == until:
                return self
            acts = self.enabled(task)
            if not acts:
                raise StepError(f"{task} is blocked at {self.show(task + '.pc')} "
                                f"before reaching {until}")
            a = acts[0]
            self.s = apply(a, self.s)
            self.trail.append(a)
        raise StepError(f"{task} did not reach {until} in {limit} steps")
