"""Strengthening invariants for k-induction proofs on the v0.2 model (docs/z3.md).

A property that holds in every reachable state is rarely *inductive*: some unreachable
state satisfies it and steps to one that does not (a CTI).  These invariants exclude such
states.  They are not trusted: `umcg-check prove` checks each of them (base case and
step case) together with the property, so a wrong one is reported, never assumed.

Each entry is derived from the model's actions (which labels a task's code has, which
return addresses it stores), so it follows the model when the model changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checker.compile import dispatch_key
from model.lang import And, Const, Expr, Op, Or, Var
from model.v0_2 import Model


@dataclass(frozen=True)
class Strengthening:
    name: str
    statement: str
    build: Callable[[Model], Expr]


def _task_labels(m: Model, t: int) -> set[int]:
    """The pc values task t can hold: labels its actions are guarded on, the labels its
    actions jump to by constant, its initial label, and the end labels."""
    pc = m.pc(t)
    pc_slots = {v.slot for v in m.spec.pc_vars}
    out = {pc.init, m.labels.index("done"), m.labels.index("dead")}
    for a in m.spec.actions:
        if a.task != t:
            continue
        key = dispatch_key(a, pc_slots)
        if key is not None and key[0] == pc.slot:
            out.add(key[1])
        for tgt, e in a.effect:
            if isinstance(tgt, Var) and tgt.slot == pc.slot:
                out |= _consts(e) or set()
    return out


def _consts(e: Expr) -> set[int] | None:
    """The values an effect can store when it is built of constants and ite (else None)."""
    if isinstance(e, Const):
        return {e.value}
    if isinstance(e, Op) and e.op == "ite":
        a, b = _consts(e.args[1]), _consts(e.args[2])
        return None if a is None or b is None else a | b
    return None


def _stored_values(m: Model, v: Var) -> set[int] | None:
    """Every value any action stores into v, if all of them are constants (else None)."""
    out = {v.init}
    for a in m.spec.actions:
        for tgt, e in a.effect:
            if isinstance(tgt, Var) and tgt.slot == v.slot:
                c = _consts(e)
                if c is None:
                    return None
                out |= c
    return out


def pc_labels(m: Model) -> Expr:
    parts = []
    for t in m.tasks:
        labs = _task_labels(m, t.index)
        parts.append(Or(*[m.pc(t.index) == x for x in sorted(labs)]))
    return And(*parts)


def return_labels(m: Model) -> Expr:
    parts = []
    for field in ("ret_sys", "ret_k"):
        for v in m.v[field]:
            vals = _stored_values(m, v)
            if vals is not None:
                parts.append(Or(*[v == x for x in sorted(vals)]))
    return And(*parts)


def constant_stores(m: Model) -> Expr:
    """Variables only ever assigned constants hold one of those constants."""
    parts = []
    for v in m.spec.vars:
        vals = _stored_values(m, v)
        if vals is None:
            continue
        dom = set(range(v.domain.lo, v.domain.hi + 1))
        if vals >= dom:
            continue
        parts.append(Or(*[v == x for x in sorted(vals)]))
    return And(*parts)


LIBRARY: dict[str, Strengthening] = {s.name: s for s in (
    Strengthening("pc_labels",
                  "each task's pc is a label of its own code (a label its actions are guarded "
                  "on or jump to), its initial label, done or dead",
                  pc_labels),
    Strengthening("return_labels",
                  "ret_sys and ret_k hold 0 or a return label that some action stores there",
                  return_labels),
    Strengthening("constant_stores",
                  "a variable that actions only ever assign constants holds its initial value "
                  "or one of those constants",
                  constant_stores),
)}
