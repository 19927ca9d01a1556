"""The same Spec as Promela, for SPIN: state variables, actions, invariants, deadlock.

The translation walks the action language's expression trees (model/lang.py); nothing
of the semantics is restated.  The shape is chosen so that SPIN's reachable state count
equals the explorer's exactly (docs/spin.md):

- every Spec variable is a global ``byte`` (arrays keep their per-element initial values);
- one ``active proctype`` per task, plus one for the environment's actions, each a single
  ``do`` loop; one action is one ``d_step { guard -> effects }``, one SPIN transition.  The
  actions at one pc label share an ``atomic`` option whose guard implies that one of them
  can run, so it never blocks inside and stores no intermediate state; the process's own
  program counter is back at the loop head after every step, so a SPIN state is exactly
  a model state;
- effects are simultaneous assignments: right-hand sides that read a slot an earlier
  assignment of the same action writes go through ``hidden`` temporaries (not in the state
  vector);
- an action that can leave the state unchanged (a spin such as ``head_locked_spin``) gets
  the conjunct "some target changes": a self-loop adds no state, and without it SPIN sees
  such a state as stuck, as the explorer classifies it;
- a ``monitor`` process asserts the invariants (one assertion per property, each tagged by
  a hidden ``prop_<name>`` variable so that pan's message names it) and makes SPIN's
  "invalid end state" mean the explorer's ``deadlock``/``spin``: its ``timeout`` option is
  a self-loop exactly in the proper end states (halted, or finished with nothing enabled),
  so a state where no action moves and that is not a proper end is an invalid end state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from checker.compile import dispatch_key
from model.lang import Action, Array, Const, Expr, Index, Op, Ref, Spec, Var, conjuncts
from properties.base import DEADLOCK, INVARIANT, Property

# Promela keywords and names pan's C code or SPIN reserve; a variable never takes one.
RESERVED = frozenset("""
active assert atomic bit bool break byte c_code c_decl c_expr c_state c_track chan d_step
do else empty enabled eval false fi for full goto hidden if in init inline int len local
ltl mtype nempty never nfull od of pc_value print printf printm priority proctype provided
run select short show skip timeout true typedef unless unsigned xr xs
now NULL auto case char const continue default double enum extern float long register
return signed sizeof static struct switch union void volatile while
HALT FINISHED monitor environment
""".split())

_C_OPS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", "+": "+", "-": "-", "&": "&",
          "|": "|", ">>": ">>", "<<": "<<"}

# What the monitor's assertions are tagged with, and how pan's message names them back.
PROP_PREFIX = "prop_"
ASSERT_RE = re.compile(r"assertion violated \(" + PROP_PREFIX + r"(\w+)\|\|")


def ident(name: str) -> str:
    """A Promela identifier for a model name (``W0.state`` -> ``W0_state``)."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or not (s[0].isalpha()):
        s = "v" + s
    return s + "_" if s in RESERVED else s


@dataclass
class Promela:
    """An exported model: the text and how its names map back to the model."""

    text: str
    processes: list[str]
    tags: dict[str, str]  # property tag (prop_<tag> in pan's message) -> property name
    stutter_actions: int  # actions that got the "some target changes" conjunct
    silent_actions: int  # actions that can never change the state (left out)


class _Names:
    """Promela names of variables, array indices and pc labels, unique and readable."""

    def __init__(self, spec: Spec) -> None:
        self.taken: set[str] = set(RESERVED)
        self.arrays: dict[str, str] = {}  # Spec array name -> Promela array name
        self.elem: dict[int, tuple[Array, int]] = {}  # slot -> (array, index)
        self.scalar: dict[int, str] = {}
        self.defines: list[tuple[str, int, str]] = []  # name, value, comment
        self.index_name: dict[tuple[str, int], str] = {}  # (array, index) -> define
        self.label: dict[int, str] = {}  # pc value -> define
        for arr in spec.arrays.values():
            self.arrays[arr.name] = self._fresh(ident(arr.name))
            for i, v in enumerate(arr.elems):
                self.elem[v.slot] = (arr, i)
        for v in spec.vars:
            if v.slot not in self.elem:
                self.scalar[v.slot] = self._fresh(ident(v.name))
        self._index_defines(spec)
        self._label_defines(spec)

    def _fresh(self, base: str) -> str:
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def _index_defines(self, spec: Spec) -> None:
        # An element named "W0.state" in array "state" is index W0; "IWH" in "mem" is IWH.
        # A label becomes a define only if every array agrees on its number.
        want: dict[str, set[int]] = {}
        per: dict[tuple[str, int], str] = {}
        for arr in spec.arrays.values():
            for i, v in enumerate(arr.elems):
                label = v.name.removesuffix("." + arr.name)
                if label == f"{arr.name}[{i}]" or label.isdigit():
                    continue
                name = ident(label)
                want.setdefault(name, set()).add(i)
                per[(arr.name, i)] = name
        ok = {n for n, vals in want.items() if len(vals) == 1 and n not in self.taken}
        for n in sorted(ok, key=lambda n: (next(iter(want[n])), n)):
            self.taken.add(n)
            self.defines.append((n, next(iter(want[n])), "index"))
        self.index_name = {k: n for k, n in per.items() if n in ok}

    def _label_defines(self, spec: Spec) -> None:
        names = next((v.domain.names for v in spec.pc_vars if v.domain.names), None)
        if not names:
            return
        for value, label in enumerate(names):
            base = "L_" + (re.sub(r"[^A-Za-z0-9_]", "_", label).strip("_") or "none")
            name = self._fresh(base)
            self.label[value] = name
            self.defines.append((name, value, f"pc label {label}"))

    def index(self, arr: Array, i: int) -> str:
        return self.index_name.get((arr.name, i), str(i))

    def var(self, v: Var) -> str:
        if v.slot in self.scalar:
            return self.scalar[v.slot]
        arr, i = self.elem[v.slot]
        return f"{self.arrays[arr.name]}[{self.index(arr, i)}]"


class _Writer:
    """Expressions and statements over one model's names."""

    def __init__(self, spec: Spec, names: _Names) -> None:
        self.spec = spec
        self.n = names

    def const_for(self, other: Expr, c: int) -> str:
        """A constant compared with or assigned to a pc variable reads as its label."""
        dom = None
        if isinstance(other, Ref):
            dom = other.var.domain
        elif isinstance(other, Index):
            dom = other.array.elems[0].domain
        if dom is not None and dom.kind == "pc" and c in self.n.label:
            return self.n.label[c]
        return str(c)

    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value)
        if isinstance(e, Ref):
            return self.n.var(e.var)
        if isinstance(e, Index):
            return f"{self.n.arrays[e.array.name]}[{self.expr(e.index)}]"
        assert isinstance(e, Op), e
        if e.op in ("and", "or"):
            joiner = " && " if e.op == "and" else " || "
            return "(" + joiner.join(self.expr(a) for a in e.args) + ")"
        if e.op == "not":
            return f"!{self.expr(e.args[0])}"
        if e.op == "ite":
            c, a, b = (self.expr(x) for x in e.args)
            return f"({c} -> {a} : {b})"
        x, y = e.args
        if e.op in ("==", "!=") and isinstance(y, Const):
            return f"({self.expr(x)} {e.op} {self.const_for(x, y.value)})"
        if e.op in ("==", "!=") and isinstance(x, Const):
            return f"({self.const_for(y, x.value)} {e.op} {self.expr(y)})"
        return f"({self.expr(x)} {_C_OPS[e.op]} {self.expr(y)})"

    def target(self, t: Var | Index, index: str | None = None) -> str:
        if isinstance(t, Var):
            return self.n.var(t)
        return f"{self.n.arrays[t.array.name]}[{index or self.expr(t.index)}]"

    def value(self, t: Var | Index, e: Expr) -> str:
        if isinstance(e, Const) and isinstance(t, Var):
            return self.const_for(Ref(t), e.value)
        return self.expr(e)


def _pinned(a: Action) -> dict[int, int]:
    """Slots the guard pins to a constant (``pc[t] == label`` and the like)."""
    out: dict[int, int] = {}
    for c in conjuncts(a.guard):
        if isinstance(c, Op) and c.op == "==":
            x, y = c.args
            if isinstance(x, Ref) and isinstance(y, Const):
                out[x.var.slot] = y.value
            elif isinstance(y, Ref) and isinstance(x, Const):
                out[y.var.slot] = x.value
    return out


def changes(a: Action) -> Expr | None:
    """None if `a` always changes the state when enabled; else the condition that it does
    (a constant FALSE for an action that never can)."""
    pinned = _pinned(a)
    moving: list[tuple[Var | Index, Expr]] = []
    for tgt, val in a.effect:
        if isinstance(tgt, Var) and isinstance(val, Const) and tgt.slot in pinned:
            if pinned[tgt.slot] != val.value:
                return None  # e.g. pc := another label: a real step whenever enabled
            continue  # assigns the value the guard already requires
        if isinstance(tgt, Var) and isinstance(val, Ref) and val.var is tgt:
            continue
        if (isinstance(tgt, Var) and isinstance(val, Op) and val.op in ("+", "-")
                and isinstance(val.args[0], Ref) and val.args[0].var is tgt
                and isinstance(val.args[1], Const) and val.args[1].value):
            return None  # v := v +- c: a value outside 0..255 is a model error, not a wrap
        moving.append((tgt, val))
    if not moving:
        return Const(0)
    from model.lang import Or

    return Or(*[(tgt if isinstance(tgt, Index) else Ref(tgt)) != val for tgt, val in moving])


def _reads(e: Expr, out: set[int]) -> None:
    from model.lang import collect_reads

    collect_reads(e, out)


def _slots(t: Var | Index) -> set[int]:
    return {t.slot} if isinstance(t, Var) else {v.slot for v in t.array.elems}


def effect_statements(a: Action, w: _Writer, temps: list[str]) -> list[str]:
    """The simultaneous assignment as Promela statements.

    Assignments are ordered so that each one runs before every other that writes what it
    reads (every right-hand side then reads the old state); where reads and writes form a
    cycle (a swap), one assignment goes through hidden temporaries: its value and index
    are computed first and written last.  `temps` collects the temporaries used (shared by
    all actions)."""
    reads: list[set[int]] = []
    for tgt, val in a.effect:
        r: set[int] = set()
        _reads(val, r)
        if isinstance(tgt, Index):
            _reads(tgt.index, r)
        reads.append(r)
    remaining = list(range(len(a.effect)))
    tail: list[int] = []  # chosen last first: nothing still remaining writes what it reads
    via_temp: list[int] = []
    while remaining:
        free = next((i for i in reversed(remaining)
                     if not any(_slots(a.effect[j][0]) & reads[i] for j in remaining if j != i)),
                    None)
        i = free if free is not None else remaining[-1]
        remaining.remove(i)
        if free is None:
            via_temp.append(i)
        else:
            tail.insert(0, i)
    first: list[str] = []
    last: list[str] = []
    k = 0
    for i in via_temp:
        tgt, val = a.effect[i]
        tv = f"tmp{k}"
        k += 1
        first.append(f"{tv} = {w.value(tgt, val)}")
        index = None
        if isinstance(tgt, Index):
            index = f"tmp{k}"
            k += 1
            first.append(f"{index} = {w.expr(tgt.index)}")
        last.append(f"{w.target(tgt, index)} = {tv}")
    while len(temps) < k:
        temps.append(f"tmp{len(temps)}")
    direct = [f"{w.target(a.effect[i][0])} = {w.value(*a.effect[i])}" for i in tail]
    return first + direct + last


@dataclass
class _Option:
    action: Action
    test: str  # the pc test the action shares with the others at its label ("" if none)
    rest: list[str]  # the rest of its guard (and "some target changes")
    body: list[str]
    silent: bool = False


def _is_key(c: Expr, key: tuple[int, int]) -> bool:
    return (isinstance(c, Op) and c.op == "==" and isinstance(c.args[0], Ref)
            and c.args[0].var.slot == key[0] and isinstance(c.args[1], Const)
            and c.args[1].value == key[1])


def _d_step(guard: list[str], body: list[str], indent: str) -> list[str]:
    out = [f"{indent}:: d_step {{ {_wrap(guard or ['1'], indent=indent + '     ')} ->"]
    out += [f"{indent}     {s};" for s in body[:-1]]
    return out + [f"{indent}     {body[-1]} }}"]


def _process_body(by_key: dict[object, list[_Option]]) -> list[str]:
    """The options of one process.  The actions at one pc label share one option,
    `atomic { pc test && !HALT && (guard1 || guard2 ...) -> if :: d_step {guard1 -> ...}
    :: ... fi }`: pan then tests each label once per state instead of each action, and as
    the atomic's guard implies that some inner option can run, the sequence never blocks
    inside, so no intermediate state is stored (an atomic stores none unless it blocks)."""
    out: list[str] = []
    for opts in by_key.values():
        for o in opts:
            if o.silent:
                out.append(f"  /* {o.action.name}: never changes the state (a pure spin), "
                           "left out */")
        live = [o for o in opts if not o.silent]
        if not live:
            continue
        if len(live) == 1:
            o = live[0]
            out.append(f"  /* {o.action.name} [{o.action.source}] */")
            out += _d_step(([o.test] if o.test else []) + o.rest + ["!HALT"], o.body, "  ")
            continue
        alts = [" && ".join(o.rest) if o.rest else "1" for o in live]
        any_ = "1" if "1" in alts else "(" + " || ".join(f"({x})" for x in alts) + ")"
        out.append(f"  :: atomic {{ {live[0].test} && !HALT && {any_} ->")
        out.append("     if")
        for o in live:
            out.append(f"     /* {o.action.name} [{o.action.source}] */")
            out += _d_step(o.rest, o.body, "     ")
        out.append("     fi }")
    return out


def _group(a: Action, spec: Spec) -> str:
    if a.actor == "E" or a.task is None:
        return "environment"
    name = spec.task_names[a.task] if a.task < len(spec.task_names) else str(a.task)
    return "task_" + ident(name)


def _wrap(parts: Iterable[str], width: int = 96, indent: str = "      ") -> str:
    """Join ` && `-separated parts over lines short enough to read."""
    lines: list[str] = []
    cur = ""
    for p in parts:
        piece = p if not cur else " && " + p
        if cur and len(cur) + len(piece) > width:
            lines.append(cur + " &&")  # SPIN's parser rejects a line that starts with &&
            cur = p
        else:
            cur += piece
    lines.append(cur)
    return ("\n" + indent).join(lines)


def to_promela(spec: Spec, props: list[Property], finished: Expr, *,
               title: str = "") -> Promela:
    """Translate `spec` with its invariant and deadlock properties (liveness is not
    exported: SPIN would need the same fairness assumptions, docs/spin.md)."""
    names = _Names(spec)
    w = _Writer(spec, names)
    invariants = [p for p in props if p.kind == INVARIANT and p.expr is not None]
    deadlock = next((p for p in props if p.kind == DEADLOCK), None)

    temps: list[str] = []
    pc_slots = {v.slot for v in spec.pc_vars}
    # process -> pc test (or a unique key for an action without one) -> options
    options: dict[str, dict[object, list[_Option]]] = {}
    effective: list[str] = []  # each action's option guard, for the deadlock assertion
    stutter_raw: list[str] = []  # raw guards of actions that may be self-loops
    n_stutter = n_silent = 0
    for a in spec.actions:
        key = dispatch_key(a, pc_slots)
        at = [c for c in conjuncts(a.guard) if key and _is_key(c, key)][:1]
        rest = [w.expr(c) for c in conjuncts(a.guard) if not (at and c is at[0])]
        test = w.expr(at[0]) if at else ""
        full = ([test] if test else []) + rest
        ch = changes(a)
        slot = options.setdefault(_group(a, spec), {}).setdefault(key or a.index, [])
        if ch is not None:
            stutter_raw.append("(" + (" && ".join(full) or "1") + ")")
            if isinstance(ch, Const) and not ch.value:
                n_silent += 1
                slot.append(_Option(a, test, [], [], silent=True))
                continue
            n_stutter += 1
            rest.append(w.expr(ch))
            full.append(rest[-1])
        effective.append("(" + (" && ".join(full) or "1") + ")")
        slot.append(_Option(a, test, rest, effect_statements(a, w, temps) or ["skip"]))
    groups = {g: _process_body(by_key) for g, by_key in options.items()}

    out: list[str] = []
    out.append("/* Promela export of " + (title or spec.name) + " by umcg-check "
               "(checker/promela.py); docs/spin.md tells how to run SPIN on it.")
    out.append("   One option of a do loop = one action of the model; the state vector is")
    out.append("   exactly the model's variables, so SPIN's \"states, stored\" with")
    out.append("   -DNOREDUCE equals umcg-check's distinct states. */")
    out.append("")
    for n, v, comment in names.defines:
        out.append(f"#define {n} {v}\t/* {comment} */")
    out.append("")
    for arr in spec.arrays.values():
        inits = [v.init for v in arr.elems]
        labels = ", ".join(v.name for v in arr.elems)
        init = f" = {inits[0]}" if len(set(inits)) == 1 else \
            " = { " + ", ".join(map(str, inits)) + " }"
        out.append(f"byte {names.arrays[arr.name]}[{len(arr.elems)}]{init};\t/* {labels} */")
    for v in spec.vars:
        if v.slot in names.scalar:
            out.append(f"byte {names.scalar[v.slot]} = {v.init};")
    for t in temps:
        out.append(f"hidden int {t};")
    tags: dict[str, str] = {}
    for p in invariants + ([deadlock] if deadlock else []):
        tag = ident(p.name)
        tags[tag] = p.name
        out.append(f"hidden byte {PROP_PREFIX}{tag};\t/* always 0: names {p.name} in pan's "
                   "message */")
    out.append("")
    out.append(f"#define HALT {w.expr(spec.halt)}")
    out.append(f"#define FINISHED {w.expr(finished)}")
    out.append("")
    for g, lines in groups.items():
        out.append(f"active proctype {g}() {{")
        out.append("end:")
        out.append("  do")
        out.extend(lines)
        out.append("  od")
        out.append("}")
        out.append("")
    if invariants or deadlock:
        out.extend(_monitor(w, invariants, deadlock, effective, stutter_raw))
    return Promela("\n".join(out) + "\n", list(groups) + (["monitor"] if invariants or deadlock
                                                          else []),
                   tags, n_stutter, n_silent)


def _monitor(w: _Writer, invariants: list[Property], deadlock: Property | None,
             effective: list[str], stutter_raw: list[str]) -> list[str]:
    out = ["/* Checks each state once: its options are enabled only in a state that violates"
           " an invariant,", "   or (timeout) in a proper end state. */",
           "active proctype monitor() {"]
    proper_end = "HALT || (FINISHED && !(" + (" || ".join(stutter_raw) or "0") + "))"
    if deadlock is None:
        out.append("end:")
    out.append("  do")
    if invariants:
        out.append("  :: d_step { !(" + _wrap([w.expr(p.expr) for p in invariants],  # type: ignore[arg-type]
                                             indent="        ") + ") ->")
        for p in invariants:
            out.append(f"       /* {p.name}: {p.statement} [{p.source}] */")
            out.append(f"       assert({PROP_PREFIX}{ident(p.name)} || {w.expr(p.expr)});")  # type: ignore[arg-type]
        if deadlock is not None:
            # Here this option keeps `timeout` false, so a stuck state that also breaks an
            # invariant is caught by this assertion instead of as an invalid end state.
            out.append(f"       /* {deadlock.name}: {deadlock.statement} */")
            moves = " || ".join(effective) or "0"
            out.append(f"       assert({PROP_PREFIX}{ident(deadlock.name)} || HALT || ({moves})"
                       f" || {proper_end})")
        out.append("       skip }")
    if deadlock is not None:
        out.append(f"  /* {deadlock.name}: a state where no action moves is a proper end only"
                   " when halted or")
        out.append("     finished with nothing enabled; anywhere else timeout stays blocked and"
                   " pan reports")
        out.append("     an invalid end state. */")
        out.append(f"  :: timeout && ({proper_end})")
    out.append("  od")
    out.append("}")
    return out
