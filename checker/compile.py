"""Compile a Spec's actions and invariants to Python source, once per model.

States are ``bytes`` (one byte per slot).  The generated successor function
dispatches on each task's program counter, so per state only the actions whose
``pc == c`` conjunct matches are tried.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from model.lang import Action, Const, Expr, Index, Op, Ref, Spec, Var, conjuncts

_BIN = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", "+": "+", "-": "-",
        "&": "&", "|": "|", ">>": ">>", "<<": "<<"}


def py_expr(e: Expr, s: str = "s") -> str:
    """Python source computing ``e`` over the state named ``s`` (an int result)."""
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Ref):
        return f"{s}[{e.var.slot}]"
    if isinstance(e, Index):
        return f"{s}[{e.array.base}+{py_expr(e.index, s)}]"
    assert isinstance(e, Op)
    return _op_source(e.op, [py_expr(x, s) for x in e.args])


def _op_source(op: str, a: list[str]) -> str:
    if op == "and":
        return "(" + " and ".join(f"({x})" for x in a) + ")"
    if op == "or":
        return "(" + " or ".join(f"({x})" for x in a) + ")"
    if op == "not":
        return f"(not {a[0]})"
    if op == "ite":
        return f"({a[1]} if {a[0]} else {a[2]})"
    return f"({a[0]} {_BIN[op]} {a[1]})"


def py_expr_shared(exprs: list[Expr], s: str = "s") -> tuple[list[str], list[str]]:
    """Python source for several expressions with each repeated array read computed once.

    The list invariants follow a list node by node (``mem[mem[IWH] >> 1]``...) and repeat the
    same chain in many conjuncts; the chain's reads become locals.  Returns the assignments
    (in dependency order) and one source string per expression.  The assignments are
    evaluated eagerly, so a read can go out of range where the short-circuit form would not
    have reached it: callers catch IndexError."""
    count: dict[str, int] = defaultdict(int)

    def scan(e: Expr) -> None:
        if isinstance(e, Index):
            count[py_expr(e, s)] += 1
            scan(e.index)
        elif isinstance(e, Op):
            for x in e.args:
                scan(x)

    for e in exprs:
        scan(e)
    names: dict[str, str] = {}
    defs: list[str] = []

    def emit(e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value)
        if isinstance(e, Ref):
            return f"{s}[{e.var.slot}]"
        if isinstance(e, Index):
            key = py_expr(e, s)
            text = f"{s}[{e.array.base}+{emit(e.index)}]"
            if count[key] < 2:
                return text
            if key not in names:
                names[key] = f"_r{len(names)}"
                defs.append(f"{names[key]} = {text}")
            return names[key]
        assert isinstance(e, Op)
        return _op_source(e.op, [emit(x) for x in e.args])

    texts = [emit(e) for e in exprs]
    return defs, texts


def dispatch_key(a: Action, pc_slots: set[int]) -> tuple[int, int] | None:
    """The (pc slot, value) this action's guard requires, if it has one."""
    for c in conjuncts(a.guard):
        if isinstance(c, Op) and c.op == "==":
            x, y = c.args
            if isinstance(x, Ref) and x.var.slot in pc_slots and isinstance(y, Const):
                return (x.var.slot, y.value)
    return None


def _action_block(a: Action, key: tuple[int, int] | None, indent: str) -> list[str]:
    parts = [c for c in conjuncts(a.guard)
             if not (key and isinstance(c, Op) and c.op == "==" and isinstance(c.args[0], Ref)
                     and c.args[0].var.slot == key[0] and isinstance(c.args[1], Const)
                     and c.args[1].value == key[1])]
    lines = []
    cond = " and ".join(f"({py_expr(c)})" for c in parts) if parts else "True"
    lines.append(f"{indent}if {cond}:")
    body = indent + "    "
    lines.append(f"{body}t = bytearray(s)")
    for tgt, val in a.effect:
        if isinstance(tgt, Var):
            lines.append(f"{body}t[{tgt.slot}] = {py_expr(val)}")
        else:
            lines.append(f"{body}t[{tgt.array.base}+{py_expr(tgt.index)}] = {py_expr(val)}")
    lines.append(f"{body}out.append(({a.index}, bytes(t)))")
    return lines


Successors = Callable[[bytes], list[tuple[int, bytes]]]


@dataclass
class Compiled:
    successors: Successors
    source: str


def dispatch_groups(spec: Spec) -> tuple[list[tuple[tuple[int, int], list[Action]]],
                                          list[Action]]:
    """The actions by the (pc slot, value) they require, in the order successors are tried
    (by slot and value, then the actions with no pc test); both engines use this order, so
    their BFS numbers states alike."""
    pc_slots = {v.slot for v in spec.pc_vars}
    by_key: dict[tuple[int, int], list[Action]] = defaultdict(list)
    loose: list[Action] = []
    for a in spec.actions:
        k = dispatch_key(a, pc_slots)
        (by_key[k] if k else loose).append(a)
    return sorted(by_key.items()), loose


def compile_spec(spec: Spec) -> Compiled:
    by_key, loose = dispatch_groups(spec)
    src: list[str] = []
    tables: dict[int, dict[int, str]] = defaultdict(dict)
    for (slot, val), acts in by_key:
        fname = f"_f_{slot}_{val}"
        tables[slot][val] = fname
        src.append(f"def {fname}(s, out):")
        for a in acts:
            src.extend(_action_block(a, (slot, val), "    "))
        src.append("")
    src.append("def _loose(s, out):")
    for a in loose:
        src.extend(_action_block(a, None, "    "))
    src.append("    return")
    src.append("")
    for slot, table in tables.items():
        size = max(table) + 1
        entries = ", ".join(table.get(i, "None") for i in range(size))
        src.append(f"_T{slot} = ({entries},)")
    halt = py_expr(spec.halt)
    src.append("def successors(s):")
    src.append(f"    if {halt}:")
    src.append("        return []")
    src.append("    out = []")
    for slot, table in tables.items():
        size = max(table) + 1
        src.append(f"    p = s[{slot}]")
        src.append(f"    if p < {size}:")
        src.append(f"        f = _T{slot}[p]")
        src.append("        if f is not None:")
        src.append("            f(s, out)")
    src.append("    _loose(s, out)")
    src.append("    return out")
    text = "\n".join(src) + "\n"
    ns: dict[str, object] = {}
    exec(compile(text, f"<compiled {spec.name}>", "exec"), ns)
    return Compiled(ns["successors"], text)  # type: ignore[arg-type]


def compile_predicates(exprs: list[Expr],
                       name: str = "preds") -> Callable[[bytes], tuple[int, ...]]:
    """One function giving the value (0/1) of each expression on a state."""
    body = ", ".join(f"1 if {py_expr(e)} else 0" for e in exprs)
    text = f"def {name}(s):\n    return ({body}{',' if len(exprs) == 1 else ''})\n"
    ns: dict[str, object] = {}
    exec(compile(text, f"<{name}>", "exec"), ns)
    return ns[name]  # type: ignore[return-value]


def compile_expr(e: Expr) -> Callable[[bytes], int]:
    ns: dict[str, object] = {}
    exec(compile(f"def f(s):\n    return {py_expr(e)}\n", "<expr>", "exec"), ns)
    return ns["f"]  # type: ignore[return-value]
