"""A tree-walking interpreter of the action language.

It is the reference semantics the compiled explorer is tested against (and the
baseline its speed is measured against): slow, obvious, independent of codegen."""

from __future__ import annotations

from collections.abc import Sequence

from model.lang import Action, Array, Const, Expr, Index, Op, Ref, Spec, Var

# The binary operators over Python ints; comparisons give 0 or 1.
BINARY = {
    "==": lambda x, y: int(x == y), "!=": lambda x, y: int(x != y),
    "<": lambda x, y: int(x < y), "<=": lambda x, y: int(x <= y),
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "&": lambda x, y: x & y,
    "|": lambda x, y: x | y, ">>": lambda x, y: x >> y, "<<": lambda x, y: x << y,
}


def value(e: Expr, s: Sequence[int]) -> int:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Ref):
        return s[e.var.slot]
    if isinstance(e, Index):
        return s[e.array.base + _element(e.array, value(e.index, s))]
    assert isinstance(e, Op), e
    op, a = e.op, e.args
    if op == "and":
        return int(all(value(x, s) for x in a))
    if op == "or":
        return int(any(value(x, s) for x in a))
    if op == "not":
        return int(not value(a[0], s))
    if op == "ite":
        return value(a[1], s) if value(a[0], s) else value(a[2], s)
    f = BINARY.get(op)
    if f is None:
        raise ValueError(op)
    return f(value(a[0], s), value(a[1], s))


def _element(array: Array, i: int) -> int:
    # The compiled explorer reads slot base + i unchecked, so a model index past the array's
    # end would silently read a neighbouring variable; the reference interpreter refuses it.
    if not 0 <= i < len(array.elems):
        raise IndexError(f"{array.name}[{i}]: index outside 0..{len(array.elems) - 1}")
    return i


def enabled(a: Action, s: Sequence[int]) -> bool:
    return bool(value(a.guard, s))


def apply(a: Action, s: bytes) -> bytes:
    """The state after `a` (simultaneous assignment: every right side reads `s`)."""
    t = bytearray(s)
    for tgt, val in a.effect:
        v = value(val, s)
        if isinstance(tgt, Var):
            t[tgt.slot] = v
        else:
            t[tgt.array.base + _element(tgt.array, value(tgt.index, s))] = v
    return bytes(t)


def successors(spec: Spec, s: bytes) -> list[tuple[int, bytes]]:
    if value(spec.halt, s):
        return []
    return [(a.index, apply(a, s)) for a in spec.actions if enabled(a, s)]
