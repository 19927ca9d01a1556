"""Dead-variable reduction: a local that every path overwrites before reading it is reset.

A classic backward live-variable analysis on each task's control flow (checker/cfg.py):
live(c) = union over the actions a at label c of reads(a) | (live(succ(a)) - must_writes(a)).
A local of task t that is not live at t's current label cannot influence any future step, so
resetting it to its initial value merges states that differ only in garbage (design.md keeps
"the locals of the code in flight" next to the pc; a local keeps its last value after the code
that used it has moved on).  The reset is a bisimulation, so every verdict is kept.

A local is never reset when something outside its task's flow reads or writes it (another
task's action, an environment action without a pc guard, an invariant, the model's
``finished``/``halt`` expressions), or when its task's pc is written from outside its flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from checker.cfg import Flows, flows, writes_pc_elsewhere
from model.lang import Expr, Spec, Var, collect_reads


def dead_slots(spec: Spec, observed: Iterable[Expr], fl: Flows | None = None
               ) -> dict[int, dict[int, tuple[int, ...]]]:
    """task -> label -> the local slots dead there (to be reset)."""
    fl = fl or flows(spec)
    seen_outside: set[int] = set()
    for e in observed:
        collect_reads(e, seen_outside)
    for a in spec.actions:
        t = fl.owner.get(a.index)
        for tgt, _ in a.effect:
            if not isinstance(tgt, Var):  # a dynamic target: never a must-write
                seen_outside.update(v.slot for v in tgt.array.elems if v.group == "local")
        if t is None:
            seen_outside |= a.reads() | a.writes()
        else:
            seen_outside |= {s for s in a.reads() | a.writes()
                             if spec.vars[s].owner is not None and spec.vars[s].owner != t}
    open_tasks = writes_pc_elsewhere(spec, fl)
    out: dict[int, dict[int, tuple[int, ...]]] = {}
    for f in fl.tasks:
        if f.task in open_tasks:
            continue
        local = {v.slot for v in spec.vars
                 if v.owner == f.task and v.group == "local" and v.slot != f.pc_slot
                 and v.slot not in seen_outside}
        if not local:
            continue
        by_index = {a.index: a for acts in f.at.values() for a in acts}
        gen = {i: a.reads() & local for i, a in by_index.items()}
        kill = {i: {tgt.slot for tgt, _ in a.effect if isinstance(tgt, Var)} & local
                for i, a in by_index.items()}
        live: dict[int, set[int]] = {c: set() for c in fl.labels}
        changed = True
        while changed:
            changed = False
            for c, per in f.succ.items():
                new: set[int] = set()
                for i, targets in per.items():
                    after: set[int] = set()
                    for d in targets:
                        after |= live.get(d, set())
                    new |= gen[i] | (after - kill[i])
                if new != live[c]:
                    live[c] = new
                    changed = True
        out[f.task] = {c: tuple(sorted(local - live[c])) for c in fl.labels
                       if local - live[c]}
    return out


def reset_function(spec: Spec, dead: dict[int, dict[int, tuple[int, ...]]]
                   ) -> Callable[[bytes], bytes]:
    """A function resetting the dead locals of a state to their initial values.

    One small function per (task, label) tests all of that label's dead slots in one
    expression: on v0.2 they are nearly always at their initial value already."""
    src: list[str] = []
    ns: dict[str, object] = {}
    body = ["def reset(s):", "    b = None"]
    for t, per in sorted(dead.items()):
        size = max(per) + 1
        names = []
        for c in range(size):
            slots = per.get(c, ())
            if not slots:
                names.append("None")
                continue
            fname = f"_r{t}_{c}"
            names.append(fname)
            init = [(x, spec.vars[x].init) for x in slots]
            test = " or ".join(f"s[{x}] != {v}" for x, v in init)
            src += [f"def {fname}(s, b):", f"    if {test}:", "        if b is None:",
                    "            b = bytearray(s)"]
            src += [f"        b[{x}] = {v}" for x, v in init]
            src += ["    return b", ""]
        src.append(f"_R{t} = ({', '.join(names)},)")
        pc = spec.pc_vars[t].slot
        body += [f"    p = s[{pc}]", f"    if p < {size}:", f"        f = _R{t}[p]",
                 "        if f is not None:", "            b = f(s, b)"]
    body.append("    return s if b is None else bytes(b)")
    exec(compile("\n".join(src + body) + "\n", "<dead-variable reset>", "exec"), ns)
    return ns["reset"]  # type: ignore[return-value]
