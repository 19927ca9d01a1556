"""Breadth-first explicit-state exploration with invariant and deadlock checking.

States are ``bytes``; the list of discovered states doubles as the BFS queue, and
each state keeps the index of its BFS parent and the action that reached it, so a
counterexample is the (shortest) parent chain.
"""

from __future__ import annotations

import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checker.compile import Compiled, compile_expr, compile_spec, py_expr, py_expr_shared
from model.lang import Expr, Spec
from properties.base import DEADLOCK, INVARIANT, Property

if TYPE_CHECKING:
    from checker.reductions import Reducer

FINISHED, DEADLOCKED, SPINNING, HALTED = "finished", "deadlock", "spin", "halted"


@dataclass
class Limits:
    max_states: int | None = None
    max_seconds: float | None = None
    max_memory: int | None = None  # bytes; the native engine's tables only (docs/native.md)


@dataclass
class Result:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    complete: bool = True
    stopped_by: str | None = None  # "max_states" | "max_seconds" | "max_memory" (native)
    violations: dict[str, int] = field(default_factory=dict)  # property -> state index
    terminal: dict[str, int] = field(default_factory=dict)  # kind -> count
    first_terminal: dict[str, int] = field(default_factory=dict)  # kind -> state index
    coverage: list[int] = field(default_factory=list)  # per action index
    premise_seen: dict[str, bool] = field(default_factory=dict)
    layers: list[int] = field(default_factory=list)


def _compile_invariants(props: list[Property]) -> tuple[Callable[[bytes], bool],
                                                        Callable[[bytes], tuple[int, ...]]]:
    exprs = [p.expr for p in props]
    ns: dict[str, object] = {}
    defs, texts = py_expr_shared(exprs)  # type: ignore[arg-type]
    all_ok = " and ".join(f"({t})" for t in texts) or "True"
    each = ", ".join(f"1 if ({py_expr(e)}) else 0" for e in exprs)  # type: ignore[arg-type]
    # ok() may say False for a state where only an eager list read went out of range; the
    # caller then asks each() (the short-circuit form), which decides.
    body = "".join(f"        {d}\n" for d in defs)
    src = (f"def ok(s):\n    try:\n{body}        return {all_ok}\n"
           f"    except IndexError:\n        return False\n"
           f"def each(s):\n    return ({each}{',' if len(exprs) == 1 else ''})\n")
    exec(compile(src, "<invariants>", "exec"), ns)
    return ns["ok"], ns["each"]  # type: ignore[return-value]


class ModelError(Exception):
    """The model itself is wrong (not a property of the system it describes)."""


class Explorer:
    """BFS over a Spec.  ``finished`` tells a proper end state from a deadlock."""

    def __init__(self, spec: Spec, props: list[Property], finished: Expr,
                 compiled: Compiled | None = None, reducer: Reducer | None = None) -> None:
        self.spec = spec
        self.reducer = reducer
        self.props = [p for p in props if p.kind == INVARIANT]
        self.check_deadlock = any(p.kind == DEADLOCK for p in props)
        self.deadlock_name = next((p.name for p in props if p.kind == DEADLOCK), "no_deadlock")
        self.compiled = compiled or compile_spec(spec)
        self.finished = compile_expr(finished)
        self.halt = compile_expr(spec.halt)
        self.inv_ok, self.inv_each = _compile_invariants(self.props)
        self.premises = [(p.name, compile_expr(p.premise)) for p in self.props
                         if p.premise is not None]
        self.states: list[bytes] = []
        self.parent = array("l")
        self.via = array("l")

    def run(self, limits: Limits | None = None, progress: bool = False) -> Result:
        limits = limits or Limits()
        succ = self.compiled.successors
        inv_ok, inv_each = self.inv_ok, self.inv_each
        res = Result(coverage=[0] * len(self.spec.actions))
        res.premise_seen = {name: False for name, _ in self.premises}
        pending_premises = list(self.premises)
        init = self.spec.init_state()
        if self.reducer is not None:
            init = self.reducer.canon(init)
        states, parent, via = [init], array("l", [-1]), array("l", [-1])
        self.states, self.parent, self.via = states, parent, via
        seen = {init}
        red = self.reducer
        expand = red.expand if red is not None else None
        nextlayer: set[bytes] = set()  # states found while expanding this layer (C3 of POR)
        t0 = time.monotonic()
        last_report = t0
        cov = res.coverage
        violations = res.violations

        def check(i: int, s: bytes) -> None:
            # Only reached when the conjunction of all invariants fails: which ones do.
            for p, ok in zip(self.props, inv_each(s), strict=True):
                if not ok and p.name not in violations:
                    violations[p.name] = i

        def premises(s: bytes) -> None:
            nonlocal pending_premises
            still = []
            for name, f in pending_premises:
                if f(s):
                    res.premise_seen[name] = True
                else:
                    still.append((name, f))
            pending_premises = still

        if not inv_ok(init):
            check(0, init)
        if pending_premises:
            premises(init)
        i, layer_end, depth = 0, 1, 0
        layers = [1]
        transitions = 0
        max_states = limits.max_states if limits.max_states is not None else 1 << 62
        seen_add, states_append = seen.add, states.append
        parent_append, via_append = parent.append, via.append
        while i < len(states):
            if i == layer_end:
                depth += 1
                layer_end = len(states)
                layers.append(layer_end - (sum(layers)))
                nextlayer.clear()
            s = states[i]
            try:
                out = succ(s)
            except ValueError:
                raise ModelError(self._out_of_range(s)) from None
            if expand is not None:
                out = expand(s, out, seen, nextlayer)
            # The first successor differs from s in almost every state: test it before all().
            if not out or (out[0][1] == s and all(t == s for _, t in out)):
                if not out and self.halt(s):
                    kind = HALTED
                elif not out and self.finished(s):
                    kind = FINISHED
                else:
                    kind = SPINNING if out else DEADLOCKED
                res.terminal[kind] = res.terminal.get(kind, 0) + 1
                res.first_terminal.setdefault(kind, i)
            for aid, t in out:
                cov[aid] += 1
                if t not in seen:
                    seen_add(t)
                    j = len(states)
                    states_append(t)
                    parent_append(i)
                    via_append(aid)
                    if not inv_ok(t):
                        check(j, t)
                    if pending_premises:
                        premises(t)
                    if expand is not None:
                        nextlayer.add(t)
            transitions += len(out)
            i += 1
            if not (i & 0xFFF):
                now = time.monotonic()
                if limits.max_seconds is not None and now - t0 > limits.max_seconds:
                    res.complete, res.stopped_by = False, "max_seconds"
                    break
                if progress and now - last_report >= 1.0:
                    last_report = now
                    rate = len(states) / (now - t0)
                    print(f"  progress: {len(states):,} states, {transitions:,} transitions, "
                          f"queue {len(states) - i:,}, depth {depth}, {rate:,.0f} states/s",
                          file=sys.stderr, flush=True)
            if len(states) > max_states:
                res.complete, res.stopped_by = False, "max_states"
                break
        res.states = len(states)
        res.transitions = transitions
        res.depth = depth
        res.layers = layers
        res.seconds = time.monotonic() - t0
        if self.check_deadlock:
            stuck = [res.first_terminal[k] for k in (DEADLOCKED, SPINNING)
                     if k in res.first_terminal]
            if stuck:
                violations[self.deadlock_name] = min(stuck)
        return res

    def _out_of_range(self, s: bytes) -> str:
        """Which action stores a value outside 0..255 in state s (bytes() refused it)."""
        from model.eval import enabled, value

        for a in self.spec.actions:
            if not enabled(a, s):
                continue
            for tgt, e in a.effect:
                v = value(e, s)
                if not 0 <= v <= 255:
                    name = getattr(tgt, "name", None) or f"{tgt.array.name}[...]"
                    return (f"model error: action {a.name} (task "
                            f"{self.spec.task_names[a.task] if a.task is not None else '-'}) "
                            f"stores {v} into {name}, outside 0..255")
        return "model error: an action stores a value outside 0..255"

    def path(self, i: int) -> list[tuple[int, bytes]]:
        """The BFS path to state i: [(action index or -1 for the initial state, state)].

        Under reductions the stored states are representatives; the path returned is the
        concrete run of the unreduced model that they stand for (Reducer.concretize)."""
        out = []
        while i >= 0:
            out.append((self.via[i], self.states[i]))
            i = self.parent[i]
        out.reverse()
        if self.reducer is not None:
            return self.reducer.concretize(out, self.compiled.successors)
        return out
