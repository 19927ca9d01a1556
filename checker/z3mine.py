"""Candidate invariants mined from the explorer's reachable states, for Houdini (docs/z3.md).

The explicit states are only a source of *guesses*: every candidate holds on every state
the explorer reached (by construction), but nothing here is trusted.  `checker.z3engine`
``houdini`` keeps the largest subset that Z3 shows to be 1-inductive, so a proof built
from the survivors is a proof by induction whatever the guesses were.

Templates (over *terms*: every state slot, plus the nodes of the two idle lists, which
the properties read through ``mem[head] >> 1`` chains), each "when the premise terms have
these values, term y takes one of the values seen with them":

- no premise: the range of y (``W0.prev in {NONE, RUNNING}``);
- one term x == a (``IWH == &W0.idle_workers_ptr -> W0.state == IDLE``);
- a task's *location* (pc, ret_sys, ret_k), or two tasks' locations together (who is
  where, and what that implies for the state words and the lists);
- a task's location and one of its locals (which node a popper holds in ``first``).
These are the protocol facts the control-flow strengthenings lack.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from checker.compile import compile_expr
from model.lang import Expr, Or, Ref, Var
from model.v0_2 import Model
from properties.v0_2 import chain


@dataclass(frozen=True)
class Term:
    name: str
    expr: Expr
    show: Callable[[int], str]


def terms(model: Model) -> list[Term]:
    """Every slot, then node i of each idle list (``IW[i]``, ``IS[i]``; 0 past the end)."""
    out = [Term(v.name, Ref(v), lambda x, v=v: model.fmt(v, x)) for v in model.spec.vars]
    lists = (("IW", 1, len(model.workers)), ("IS", 2, len(model.servers)))
    for name, head, n in lists:
        for i, node in enumerate(chain(model, head, n)):
            out.append(Term(f"{name}[{i}]", node, str))
    return out


def _column(t: Term, states: Sequence[bytes]) -> bytes:
    e = t.expr
    if isinstance(e, Ref) and isinstance(e.var, Var):
        i = e.var.slot
        return bytes(s[i] for s in states)
    f = compile_expr(e)
    return bytes(f(s) for s in states)


@dataclass
class Guess:
    """A guessed invariant: when each premise term has its value, ``term`` takes one of
    ``allowed``.  Seeded with the values the explorer's states have; ``houdini`` may
    add values (weakening it) when Z3 shows it is not inductive as it stands."""

    premise: tuple[tuple[int, int], ...]
    term: int
    allowed: set[int]


def guesses(model: Model, states: Sequence[bytes],
            with_locals: bool = True) -> tuple[list[Term], list[Guess]]:
    """Seeds over ``states``: the range of every term; for every term x and value a, the
    values every other term takes when x == a; for every two task pcs and values a, b,
    the values every other term takes when both pcs have them (who is where, and what
    that implies for the state words, the lists and the locals); with ``with_locals``,
    the same for a task's pc and one of its locals (a popped node held in ``first``)."""
    ts = terms(model)
    cols = [_column(t, states) for t in ts]
    n = len(ts)
    vary = [i for i in range(n) if len(set(cols[i])) > 1]
    pc_slots = {v.slot for v in model.spec.pc_vars}
    pcs = [i for i in vary if isinstance(ts[i].expr, Ref) and ts[i].expr.var.slot in pc_slots]
    out = [Guess((), i, set(cols[i])) for i in range(n)]
    # A task's location is its pc with its return labels (the call stack of the model:
    # the same kernel label is entered from registration, I/O or the idle loop).
    by_name = {t.name: i for i, t in enumerate(ts)}
    locs = []
    for p in pcs:
        task = ts[p].name.removesuffix(".pc")
        locs.append(tuple(by_name[f"{task}.{f}"] for f in ("pc", "ret_sys", "ret_k")
                          if f"{task}.{f}" in by_name and by_name[f"{task}.{f}"] in vary))
    premises: list[tuple[int, ...]] = [(i,) for i in vary]
    premises += locs
    premises += [a + b for n, a in enumerate(locs) for b in locs[n + 1:]]
    if with_locals:  # a task's location with one of its own locals
        for loc in locs:
            owner = ts[loc[0]].expr.var.owner
            premises += [loc + (i,) for i in vary if i not in loc
                         and isinstance(ts[i].expr, Ref) and ts[i].expr.var.owner == owner
                         and ts[i].expr.var.group == "local"]
    for prem in premises:
        for k in vary:
            if k in prem:
                continue
            by: dict[tuple[int, ...], set[int]] = defaultdict(set)
            for row in set(zip(*[cols[i] for i in prem], cols[k], strict=True)):
                by[row[:-1]].add(row[-1])
            whole = set(cols[k])
            for vals, seen in by.items():
                if seen < whole:  # else it says nothing the range does not
                    out.append(Guess(tuple(zip(prem, vals, strict=True)), k, seen))
    return ts, out


def values(ts: Sequence[Term]) -> Callable[[bytes], tuple[int, ...]]:
    """The value of every term in a state (slots read directly, list nodes computed)."""
    from checker.compile import py_expr

    body = ", ".join(f"({py_expr(t.expr)})" for t in ts)
    ns: dict[str, object] = {}
    exec(compile(f"def f(s):\n    return ({body},)\n", "<terms>", "exec"), ns)
    return ns["f"]  # type: ignore[return-value]


def guess_expr(ts: Sequence[Term], g: Guess) -> Expr:
    return Or(*[ts[i].expr != a for i, a in g.premise], _in(ts[g.term].expr, g.allowed))


def describe(ts: Sequence[Term], g: Guess) -> str:
    prem = " and ".join(f"{ts[i].name} == {ts[i].show(a)}" for i, a in g.premise)
    conc = _show(ts[g.term], g.allowed)
    return f"{prem} -> {conc}" if prem else conc


def _in(e: Expr, values: Sequence[int]) -> Expr:
    return Or(*[e == x for x in sorted(values)])


def _show(t: Term, values: Sequence[int]) -> str:
    vs = sorted(values)
    return f"{t.name} == {t.show(vs[0])}" if len(vs) == 1 else \
        f"{t.name} in {{{', '.join(t.show(x) for x in vs)}}}"


class Learner:
    """New guesses on demand: for a state s that every guess allows, the fewest terms
    (greedily) on which no explored state agrees with s, as "when these terms have s's
    values, the last one takes only the values explored states have" (false at s, true
    on every explored state).  None when s is itself an explored state."""

    def __init__(self, ts: Sequence[Term], states: Sequence[bytes]) -> None:
        self.cols = [_column(t, states) for t in ts]
        self.n = len(states)

    def __call__(self, vals: tuple[int, ...]) -> Guess | None:
        match = range(self.n)
        chosen: list[int] = []
        while match:
            best, best_m = -1, None
            for k, col in enumerate(self.cols):
                if k in chosen:
                    continue
                m = [r for r in match if col[r] == vals[k]]
                if best_m is None or len(m) < len(best_m):
                    best, best_m = k, m
                    if not m:
                        break
            if best_m is None or len(best_m) == len(match):
                return None  # s agrees with an explored state on every term
            chosen.append(best)
            if not best_m:
                return self._minimal(chosen, vals)
            match = best_m
        return None

    def _minimal(self, chosen: list[int], vals: tuple[int, ...]) -> Guess:
        # Drop every term not needed to tell s from the explored states (a shorter
        # premise is a more general guess, which excludes more unreachable states).
        keep = list(chosen)
        for k in chosen[:-1]:
            rest = [x for x in keep if x != k]
            if not any(all(self.cols[x][r] == vals[x] for x in rest) for r in range(self.n)):
                keep = rest
        *prem, last = keep
        allowed = {self.cols[last][r] for r in range(self.n)
                   if all(self.cols[x][r] == vals[x] for x in prem)}
        return Guess(tuple((k, vals[k]) for k in prem), last, allowed)
