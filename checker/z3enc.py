"""The action language translated to Z3: states, guards, effects, the transition relation.

Nothing here states an action by hand: every formula is generated from ``spec.actions``,
the same trees the explorer compiles, so the two engines cannot disagree on what a step
does (the tests compare their reachable sets).

Encoding choices:

- a state is one ``BitVec(8)`` per slot (every domain fits in 0..255); comparisons are
  unsigned (``ULT``/``ULE``) and ``>>`` is a logical shift, as in Python on non-negative
  ints.  Arithmetic wraps at 8 bits where Python would not; the models only compute
  values inside their domains, and a value outside would also be refused by ``bytes``
  in the explorer, so the two agree on every reachable state.
- a transition is *functional*: a per-step action indicator ``act`` (a ``BitVec(16)``)
  selects one action, whose guard must hold, and each next-state slot is an if-then-else
  over the actions that write it (the old value otherwise).  This keeps a step's formula
  linear in the size of the model instead of (actions x slots) frame equalities, and a
  model names the action that fired, which is what trace replay needs.
- ``spec.halt`` states have no successors, so every step also asserts ``Not(halt)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from model.lang import Action, Const, Expr, Index, Op, Ref, Spec, Var

BV = 8
ACT_BITS = 16

State = list[z3.BitVecRef]


def _bv(x: int) -> z3.BitVecNumRef:
    return z3.BitVecVal(x, BV)


# Unsigned 8-bit semantics of the language's binary operators (model/eval.py has the same table
# over Python ints).
_Z3_BINARY = {
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": z3.ULT, "<=": z3.ULE,
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "&": lambda x, y: x & y,
    "|": lambda x, y: x | y, ">>": z3.LShR, "<<": lambda x, y: x << y,
}


class Encoder:
    """Z3 terms for one Spec.  States are lists of BitVec(8), one per slot."""

    def __init__(self, spec: Spec, ctx: z3.Context | None = None) -> None:
        self.spec = spec
        self.ctx = ctx
        self.nslots = len(spec.vars)
        if len(spec.actions) >= 1 << ACT_BITS:
            raise ValueError("too many actions for the action indicator")
        # Which actions write which slot, and what each action writes there (in effect
        # order, so a later target overrides an earlier one, as eval.apply does).
        self.writers: list[list[Action]] = [[] for _ in range(self.nslots)]
        for a in spec.actions:
            for slot in sorted(a.writes()):
                self.writers[slot].append(a)

    # ------------------------------------------------------------------ states
    def state(self, tag: str) -> State:
        return [z3.BitVec(f"{tag}|{v.name}", BV) for v in self.spec.vars]

    def const_state(self, s: bytes) -> State:
        return [_bv(x) for x in s]

    def equal(self, s: State, t: State) -> z3.BoolRef:
        return z3.And(*[a == b for a, b in zip(s, t, strict=True)])

    def is_value(self, s: State, values: bytes) -> z3.BoolRef:
        return z3.And(*[a == x for a, x in zip(s, values, strict=True)])

    def init(self, s: State) -> z3.BoolRef:
        return self.is_value(s, self.spec.init_state())

    def domains(self, s: State) -> z3.BoolRef:
        """Every slot holds a value of its declared domain."""
        out = []
        for v, x in zip(self.spec.vars, s, strict=True):
            d = v.domain
            if d.lo > 0:
                out.append(z3.UGE(x, d.lo))
            if d.hi < 255:
                out.append(z3.ULE(x, d.hi))
        return z3.And(*out) if out else z3.BoolVal(True)

    def decode(self, model: z3.ModelRef, s: State) -> bytes:
        return bytes(model.eval(x, model_completion=True).as_long() for x in s)

    # ------------------------------------------------------------------ expressions
    def val(self, e: Expr, s: State, memo: dict[int, z3.ExprRef] | None = None) -> z3.BitVecRef:
        """The 8-bit value of ``e`` in state ``s``."""
        r = self._term(e, s, {} if memo is None else memo)
        return z3.If(r, _bv(1), _bv(0)) if z3.is_bool(r) else r

    def cond(self, e: Expr, s: State, memo: dict[int, z3.ExprRef] | None = None) -> z3.BoolRef:
        """``e`` used as a truth value (non-zero)."""
        r = self._term(e, s, {} if memo is None else memo)
        return r if z3.is_bool(r) else r != 0

    def _as_bv(self, e: Expr, s: State, memo: dict[int, z3.ExprRef]) -> z3.BitVecRef:
        r = self._term(e, s, memo)
        return z3.If(r, _bv(1), _bv(0)) if z3.is_bool(r) else r

    def _as_bool(self, e: Expr, s: State, memo: dict[int, z3.ExprRef]) -> z3.BoolRef:
        r = self._term(e, s, memo)
        return r if z3.is_bool(r) else r != 0

    def _term(self, e: Expr, s: State, memo: dict[int, z3.ExprRef]) -> z3.ExprRef:
        # Expression trees share subtrees (list chains, helper guards): memoise per state.
        key = id(e)
        hit = memo.get(key)
        if hit is not None:
            return hit
        r = self._build(e, s, memo)
        memo[key] = r
        return r

    def _build(self, e: Expr, s: State, memo: dict[int, z3.ExprRef]) -> z3.ExprRef:
        if isinstance(e, Const):
            return _bv(e.value)
        if isinstance(e, Ref):
            return s[e.var.slot]
        if isinstance(e, Index):
            return self._index(e, s, memo)
        assert isinstance(e, Op), e
        op, a = e.op, e.args
        if op == "and":
            return z3.And(*[self._as_bool(x, s, memo) for x in a])
        if op == "or":
            return z3.Or(*[self._as_bool(x, s, memo) for x in a])
        if op == "not":
            return z3.Not(self._as_bool(a[0], s, memo))
        if op == "ite":
            c = self._as_bool(a[0], s, memo)
            return z3.If(c, self._as_bv(a[1], s, memo), self._as_bv(a[2], s, memo))
        x, y = self._as_bv(a[0], s, memo), self._as_bv(a[1], s, memo)
        f = _Z3_BINARY.get(op)
        if f is not None:
            return f(x, y)
        raise ValueError(f"unknown operator {op!r}")

    def _index(self, e: Index, s: State, memo: dict[int, z3.ExprRef]) -> z3.BitVecRef:
        # eval reads slot base + index.  Indices are computed from values inside their
        # domains, which keeps them inside the array (the pointer domain ends at the last
        # address); past the end we read the last element instead of widening every read
        # to all later slots.
        idx = self._as_bv(e.index, s, memo)
        elems = e.array.elems
        out: z3.BitVecRef = s[elems[-1].slot]
        for i in range(len(elems) - 2, -1, -1):
            out = z3.If(idx == i, s[elems[i].slot], out)
        return out

    # ------------------------------------------------------------------ actions
    def guard(self, a: Action, s: State, memo: dict[int, z3.ExprRef] | None = None) -> z3.BoolRef:
        return self.cond(a.guard, s, memo)

    def effect(self, a: Action, s: State,
               memo: dict[int, z3.ExprRef] | None = None) -> dict[int, z3.BitVecRef]:
        """slot -> new value for every slot ``a`` may write (simultaneous assignment)."""
        memo = {} if memo is None else memo
        out: dict[int, z3.BitVecRef] = {}
        for tgt, e in a.effect:
            v = self.val(e, s, memo)
            if isinstance(tgt, Var):
                out[tgt.slot] = v
            else:
                idx = self.val(tgt.index, s, memo)
                for i, elem in enumerate(tgt.array.elems):
                    old = out.get(elem.slot, s[elem.slot])
                    out[elem.slot] = z3.If(idx == i, v, old)
        return out

    def defined(self, a: Action, s: State,
                memo: dict[int, z3.ExprRef] | None = None) -> z3.BoolRef:
        """The effect's arithmetic stays in 0..255 (no carry, borrow or shifted-out bit).

        eval.apply would refuse to store such a value (``bytes`` raises), so the explorer
        has no such step; without this the 8-bit wrap would invent one in the free
        states of an induction step."""
        memo = {} if memo is None else memo
        out: list[z3.BoolRef] = []
        seen: set[int] = set()

        def walk(e: Expr) -> None:
            if id(e) in seen:
                return
            seen.add(id(e))
            if isinstance(e, Index):
                walk(e.index)
            elif isinstance(e, Op):
                for x in e.args:
                    walk(x)
                if e.op in ("+", "-", "<<"):
                    x, y = self._as_bv(e.args[0], s, memo), self._as_bv(e.args[1], s, memo)
                    if e.op == "+":
                        out.append(z3.BVAddNoOverflow(x, y, False))
                    elif e.op == "-":
                        out.append(z3.BVSubNoUnderflow(x, y, False))
                    else:
                        out.append(z3.And(z3.ULT(y, BV), z3.LShR(x << y, y) == x))

        for tgt, e in a.effect:
            walk(e)
            if isinstance(tgt, Index):
                walk(tgt.index)
        return z3.And(*out) if out else z3.BoolVal(True)

    def next_state(self, a: Action, s: State,
                   memo: dict[int, z3.ExprRef] | None = None) -> State:
        eff = self.effect(a, s, memo)
        return [eff.get(i, x) for i, x in enumerate(s)]

    def halt(self, s: State, memo: dict[int, z3.ExprRef] | None = None) -> z3.BoolRef:
        return self.cond(self.spec.halt, s, memo)

    def step(self, s: State, t: State, act: z3.BitVecRef,
             actions: Sequence[Action] | None = None) -> z3.BoolRef:
        """One transition s -> t by the action whose index is ``act``.

        ``actions`` restricts the step to a subset (default: all actions)."""
        acts = list(self.spec.actions if actions is None else actions)
        memo: dict[int, z3.ExprRef] = {}
        parts: list[z3.BoolRef] = [z3.Not(self.halt(s, memo))]
        parts.append(z3.Or(*[act == a.index for a in acts]) if actions is not None
                     else z3.ULT(act, len(self.spec.actions)))
        effects: dict[int, dict[int, z3.BitVecRef]] = {}
        for a in acts:
            parts.append(z3.Implies(act == a.index, z3.And(self.guard(a, s, memo),
                                                           self.defined(a, s, memo))))
            effects[a.index] = self.effect(a, s, memo)
        for slot in range(self.nslots):
            nxt: z3.BitVecRef = s[slot]
            for a in reversed(self.writers[slot]):
                if a.index in effects:
                    nxt = z3.If(act == a.index, effects[a.index][slot], nxt)
            parts.append(t[slot] == nxt)
        return z3.And(*parts)

    def enabled_any(self, s: State) -> z3.BoolRef:
        memo: dict[int, z3.ExprRef] = {}
        return z3.And(z3.Not(self.halt(s, memo)),
                      z3.Or(*[self.guard(a, s, memo) for a in self.spec.actions]))

    def stuck(self, s: State, finished: Expr) -> z3.BoolRef:
        """The explorer's "deadlock" or "spin" end state (checker/explore.py).

        Not halted, every enabled action is a self-loop, and either some action is
        enabled (a spin) or the state is not a proper end (a deadlock)."""
        memo: dict[int, z3.ExprRef] = {}
        parts = [z3.Not(self.halt(s, memo))]
        some = []
        for a in self.spec.actions:
            g = self.guard(a, s, memo)
            some.append(g)
            eff = self.effect(a, s, memo)
            same = z3.And(*[v == s[i] for i, v in eff.items()]) if eff else z3.BoolVal(True)
            parts.append(z3.Implies(g, same))
        parts.append(z3.Or(z3.Or(*some), z3.Not(self.cond(finished, s, memo))))
        return z3.And(*parts)

    def act_var(self, tag: str) -> z3.BitVecRef:
        return z3.BitVec(f"{tag}|act", ACT_BITS)
