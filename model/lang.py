"""The action language: finite-domain variables, expressions, guarded actions.

A model is data.  Engines (the explicit explorer, later Z3 and Promela) walk the
same expression trees, so the semantics of an action lives in exactly one place.

Values are small non-negative integers (every domain fits in 0..255), which lets
the explorer store a state as ``bytes`` and lets Z3 use 8-bit bit-vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_VALUE = 255


# --------------------------------------------------------------------------- expressions


class Expr:
    """Base class of expression nodes; operators build larger expressions."""

    __slots__ = ()

    # Comparisons build expressions, so Expr objects are hashed by identity.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return Op("==", (self, lift(other)))

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return Op("!=", (self, lift(other)))

    def __lt__(self, other: object) -> Expr:
        return Op("<", (self, lift(other)))

    def __le__(self, other: object) -> Expr:
        return Op("<=", (self, lift(other)))

    def __gt__(self, other: object) -> Expr:
        return Op("<", (lift(other), self))

    def __ge__(self, other: object) -> Expr:
        return Op("<=", (lift(other), self))

    def __and__(self, other: object) -> Expr:
        return Op("&", (self, lift(other)))

    def __rand__(self, other: object) -> Expr:
        return Op("&", (lift(other), self))

    def __or__(self, other: object) -> Expr:
        return Op("|", (self, lift(other)))

    def __ror__(self, other: object) -> Expr:
        return Op("|", (lift(other), self))

    def __add__(self, other: object) -> Expr:
        return Op("+", (self, lift(other)))

    def __sub__(self, other: object) -> Expr:
        return Op("-", (self, lift(other)))

    def __rshift__(self, other: object) -> Expr:
        return Op(">>", (self, lift(other)))

    def __lshift__(self, other: object) -> Expr:
        return Op("<<", (self, lift(other)))

    def __bool__(self) -> bool:
        raise TypeError("an Expr has no truth value; use And/Or/Not")


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= MAX_VALUE:
            raise ValueError(f"constant {self.value} outside 0..{MAX_VALUE}")


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """A read of one state slot (a scalar variable or one array element)."""

    var: Var


@dataclass(frozen=True, eq=False)
class Index(Expr):
    """A read of ``array[index]`` where the index is itself an expression."""

    array: Array
    index: Expr


# Boolean ops take and give 0/1; arithmetic stays within 0..255 by construction.
BOOL_OPS = {"and", "or", "not", "==", "!=", "<", "<="}
ARITH_OPS = {"+", "-", "&", "|", ">>", "<<"}


@dataclass(frozen=True, eq=False)
class Op(Expr):
    op: str
    args: tuple[Expr, ...]

    def __post_init__(self) -> None:
        if self.op not in BOOL_OPS | ARITH_OPS | {"ite"}:
            raise ValueError(f"unknown operator {self.op!r}")


def lift(value: object) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, Var):
        return Ref(value)
    if isinstance(value, bool):
        return Const(int(value))
    if isinstance(value, int):
        return Const(value)
    raise TypeError(f"cannot use {value!r} in an expression")


TRUE = Const(1)
FALSE = Const(0)


def And(*args: object) -> Expr:
    flat: list[Expr] = []
    for a in args:
        e = lift(a)
        if isinstance(e, Op) and e.op == "and":
            flat.extend(e.args)
        elif isinstance(e, Const) and e.value:
            continue
        else:
            flat.append(e)
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else Op("and", tuple(flat))


def Or(*args: object) -> Expr:
    flat = [lift(a) for a in args]
    flat = [e for e in flat if not (isinstance(e, Const) and not e.value)]
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else Op("or", tuple(flat))


def Not(a: object) -> Expr:
    return Op("not", (lift(a),))


def Ite(cond: object, then: object, other: object) -> Expr:
    return Op("ite", (lift(cond), lift(then), lift(other)))


def Implies(a: object, b: object) -> Expr:
    return Or(Not(a), b)


def conjuncts(e: Expr) -> list[Expr]:
    return list(e.args) if isinstance(e, Op) and e.op == "and" else [e]


# --------------------------------------------------------------------------- variables


@dataclass(frozen=True, eq=False)
class Domain:
    """Values lo..hi, optionally with a name per value (for display only)."""

    lo: int
    hi: int
    names: tuple[str, ...] | None = None
    kind: str = "int"  # int | bool | enum | task | pc | ptr | word

    def __post_init__(self) -> None:
        if not 0 <= self.lo <= self.hi <= MAX_VALUE:
            raise ValueError(f"domain {self.lo}..{self.hi} outside 0..{MAX_VALUE}")

    def contains(self, v: int) -> bool:
        return self.lo <= v <= self.hi


BOOL = Domain(0, 1, ("false", "true"), "bool")


def enum(*names: str, kind: str = "enum") -> Domain:
    return Domain(0, len(names) - 1, tuple(names), kind)


@dataclass(eq=False)
class Var:
    """One state slot.  ``owner`` is the task index it belongs to, if any."""

    name: str
    domain: Domain
    init: int
    slot: int = -1
    owner: int | None = None
    group: str = ""  # "user" (umcg_task words, list heads), "kernel", "local", "env"

    def ref(self) -> Ref:
        return Ref(self)

    # Vars appear directly in expressions: v == 3 etc.
    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return Ref(self) == other

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return Ref(self) != other

    __hash__ = object.__hash__

    def __lt__(self, other: object) -> Expr:
        return Ref(self) < other

    def __le__(self, other: object) -> Expr:
        return Ref(self) <= other

    def __gt__(self, other: object) -> Expr:
        return Ref(self) > other

    def __ge__(self, other: object) -> Expr:
        return Ref(self) >= other

    def __and__(self, other: object) -> Expr:
        return Ref(self) & other

    def __or__(self, other: object) -> Expr:
        return Ref(self) | other

    def __add__(self, other: object) -> Expr:
        return Ref(self) + other

    def __sub__(self, other: object) -> Expr:
        return Ref(self) - other

    def __rshift__(self, other: object) -> Expr:
        return Ref(self) >> other

    def __lshift__(self, other: object) -> Expr:
        return Ref(self) << other

    def __bool__(self) -> bool:
        raise TypeError("a Var has no truth value; compare it")


@dataclass(eq=False)
class Array:
    """Consecutive slots ``name[0..n-1]``; indexable by an int or an Expr."""

    name: str
    elems: list[Var]

    @property
    def base(self) -> int:
        return self.elems[0].slot

    def __len__(self) -> int:
        return len(self.elems)

    def __getitem__(self, i: int | Expr | Var) -> Var | Index:  # type: ignore[override]
        if isinstance(i, int):
            return self.elems[i]
        return Index(self, lift(i))


Target = Var | Index


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Cite:
    """Where an action comes from: version, file, function, step (semantics §)."""

    version: str
    file: str
    function: str
    step: str
    section: str = ""

    def __str__(self) -> str:
        sec = f" [{self.section}]" if self.section else ""
        return f"{self.version} {self.file}:{self.function} {self.step}{sec}"


@dataclass(eq=False)
class Action:
    name: str
    task: int | None  # the task that takes the step (None: no single actor)
    actor: str  # "K" kernel, "U" user space, "E" environment
    guard: Expr
    effect: list[tuple[Target, Expr]]
    source: Cite
    params: dict[str, int] = field(default_factory=dict)
    index: int = -1

    def reads(self) -> set[int]:
        """Slots read by the guard or by any right-hand side / dynamic target index."""
        out: set[int] = set()
        collect_reads(self.guard, out)
        for tgt, val in self.effect:
            collect_reads(val, out)
            if isinstance(tgt, Index):
                collect_reads(tgt.index, out)
        return out

    def writes(self) -> set[int]:
        """Slots possibly written (a dynamic target writes, conservatively, its whole array)."""
        out: set[int] = set()
        for tgt, _ in self.effect:
            if isinstance(tgt, Var):
                out.add(tgt.slot)
            else:
                out.update(v.slot for v in tgt.array.elems)
        return out


def collect_reads(e: Expr, out: set[int]) -> None:
    if isinstance(e, Ref):
        out.add(e.var.slot)
    elif isinstance(e, Index):
        out.update(v.slot for v in e.array.elems)
        collect_reads(e.index, out)
    elif isinstance(e, Op):
        for a in e.args:
            collect_reads(a, out)


# --------------------------------------------------------------------------- the spec


class Spec:
    """State variables plus actions: the whole statement of one model."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.vars: list[Var] = []
        self.arrays: dict[str, Array] = {}
        self.actions: list[Action] = []
        self.halt: Expr = FALSE  # states where this holds have no successors
        self.task_names: list[str] = []
        self.pc_vars: list[Var] = []

    # variables ----------------------------------------------------------------
    def var(self, name: str, domain: Domain, init: int = 0, *, owner: int | None = None,
            group: str = "") -> Var:
        if not domain.contains(init):
            raise ValueError(f"{name}: initial value {init} outside its domain")
        if any(v.name == name for v in self.vars):
            raise ValueError(f"duplicate variable {name}")
        v = Var(name, domain, init, len(self.vars), owner, group)
        self.vars.append(v)
        return v

    def array(self, name: str, domain: Domain, inits: Sequence[int], *,
              owners: Sequence[int | None] | None = None, labels: Sequence[str] | None = None,
              group: str = "") -> Array:
        elems = []
        for i, init in enumerate(inits):
            label = labels[i] if labels else str(i)
            owner = owners[i] if owners else None
            elems.append(self.var(f"{name}[{label}]", domain, init, owner=owner, group=group))
        arr = Array(name, elems)
        self.arrays[name] = arr
        return arr

    # actions ------------------------------------------------------------------
    def action(self, name: str, *, task: int | None, actor: str, guard: object,
               effect: dict[Target, object] | list[tuple[Target, object]] | None = None,
               source: Cite, **params: int) -> Action:
        if actor not in ("K", "U", "E"):
            raise ValueError(f"{name}: actor must be K, U or E")
        pairs = list(effect.items()) if isinstance(effect, dict) else list(effect or [])
        eff: list[tuple[Target, Expr]] = []
        static_targets: set[int] = set()
        for tgt, val in pairs:
            if isinstance(tgt, Var):
                if tgt.slot in static_targets:
                    raise ValueError(f"{name}: {tgt.name} assigned twice")
                static_targets.add(tgt.slot)
            elif not isinstance(tgt, Index):
                raise TypeError(f"{name}: cannot assign to {tgt!r}")
            v = lift(val)
            if isinstance(tgt, Var) and isinstance(v, Const) and not tgt.domain.contains(v.value):
                raise ValueError(f"{name}: {tgt.name} := {v.value} outside its domain")
            eff.append((tgt, v))
        a = Action(name, task, actor, lift(guard), eff, source, dict(params), len(self.actions))
        self.actions.append(a)
        return a

    def init_state(self) -> bytes:
        return bytes(v.init for v in self.vars)

    def var_by_name(self, name: str) -> Var:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)

    def action_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.actions:
            seen.setdefault(a.name, None)
        return list(seen)


def show_value(v: Var, value: int) -> str:
    names = v.domain.names
    if names and 0 <= value < len(names):
        return names[value]
    return str(value)


def slots(vars_: Iterable[Var]) -> list[int]:
    return [v.slot for v in vars_]
