"""Partial-order reduction: expand one task's steps where they commute with everything else.

Ample sets (Peled 1993; Clarke, Grumberg & Peled, "Model Checking", ch. 10) built from the
exact read/write sets of the action language (model/lang.py Action.reads/writes):

- C0: a state with successors gets a nonempty set (only full expansion is ever empty).
- C1: the set is all enabled actions of one task t at its current label c, and every action at
  (t, c) -- enabled or not -- is independent of every action that any other task can still take
  from its current label in its control flow (checker/cfg.py reach) and of every environment
  action without a pc guard: no write of one meets a read or write of the other.  So no other
  task can enable, disable or be affected by t's next step before t takes it.
- C2 (invisibility): every action at (t, c) leaves every checked invariant's value unchanged:
  it writes no slot an invariant reads, except a pc whose every comparison with a constant in
  the invariants has the same value before and after (``pc < first kernel label`` does not
  change on a kernel-to-kernel step).
- C3 (cycle proviso for breadth-first search, Bošnački, Leue & Lluch Lafuente, "Partial-order
  reduction for general state exploring algorithms", STTT 11(1), 2009, condition C3 for BFS):
  if an ample successor was already seen in the current layer or an earlier one (its depth is
  not greater than the state's), the state is fully expanded.  Every cycle of the reduced graph
  has an edge that does not go deeper, so every cycle has a fully expanded state and no action
  is ignored forever.

Stubborn sets preserve deadlocks (Valmari 1991) with C0 and C1 alone; C2 and C3 make the
reduced graph reach a violating state of an invariant whenever the full graph does.  A
counterexample found under reduction is a real path of the model, but need not be a shortest one.
"""

from __future__ import annotations

from collections.abc import Iterable

from checker.cfg import Flows, flows, writes_pc_elsewhere
from checker.compile import py_expr
from model.lang import (
    Action,
    And,
    Const,
    Expr,
    Index,
    Op,
    Ref,
    Spec,
    collect_reads,
    conjuncts,
)

_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _bits(slots: Iterable[int]) -> int:
    x = 0
    for s in slots:
        x |= 1 << s
    return x


def observed(exprs: Iterable[Expr], pc_slots: set[int]) -> tuple[set[int], list[tuple]]:
    """Slots the expressions read, and their atoms ``pc op const`` kept apart."""
    plain: set[int] = set()
    atoms: list[tuple] = []

    def walk(e: Expr) -> None:
        if isinstance(e, Ref):
            plain.add(e.var.slot)
        elif isinstance(e, Index):
            plain.update(v.slot for v in e.array.elems)
            walk(e.index)
        elif isinstance(e, Op):
            if e.op in _CMP and len(e.args) == 2:
                x, y = e.args
                if isinstance(x, Ref) and x.var.slot in pc_slots and isinstance(y, Const):
                    atoms.append((x.var.slot, e.op, y.value, False))
                    return
                if isinstance(y, Ref) and y.var.slot in pc_slots and isinstance(x, Const):
                    atoms.append((y.var.slot, e.op, x.value, True))
                    return
            for a in e.args:
                walk(a)

    for e in exprs:
        walk(e)
    return plain, atoms


def _atom(atom: tuple, pc: int) -> bool:
    _, op, k, flipped = atom
    return _CMP[op](k, pc) if flipped else _CMP[op](pc, k)


class PartialOrder:
    """Chooses an ample subset of a state's successors (see the module docstring)."""

    def __init__(self, spec: Spec, invariants: list[Expr], fl: Flows | None = None) -> None:
        fl = fl or flows(spec)
        self.fl = fl
        self.spec = spec
        self.pc_slots = [f.pc_slot for f in fl.tasks]
        plain, atoms = observed(invariants, set(self.pc_slots))
        self.owner = [fl.owner.get(a.index, -1) for a in spec.actions]
        visible = [self._visible(a, plain, atoms) for a in spec.actions]
        pcs = set(self.pc_slots)
        # Reads of another task's pc are comparisons with labels ("is it done?"): an action
        # conflicts with them only if its pc move changes such a comparison.
        rd, ard = [], []
        for a in spec.actions:
            exprs = [a.guard] + [e for _, e in a.effect] + [
                t.index for t, _ in a.effect if isinstance(t, Index)]
            r, at = observed(exprs, pcs)
            rd.append(_bits(r))
            ard.append(frozenset(at))
        universe = {x for at in ard for x in at}
        wr = [_bits(a.writes()) for a in spec.actions]
        chg = [self._changed(a, universe) for a in spec.actions]
        self.loose_w = _bits(s for a in fl.loose for s in a.writes())
        open_tasks = writes_pc_elsewhere(spec, fl)
        self.rd, self.wr, self.ard, self.chg = rd, wr, ard, chg
        self.visible = [v or fl.owner.get(i) in open_tasks for i, v in enumerate(visible)]
        self.at = [{c: tuple(a.index for a in acts) for c, acts in f.at.items()}
                   for f in fl.tasks]
        self.live = self._blockers(spec, fl)
        # per task: label -> (reads, writes, pc atoms read, pc atoms changed) of every action
        # reachable from there in the task's flow
        self.fut: list[dict[int, tuple]] = []
        for f in fl.tasks:
            reach = f.reach()
            every = list(f.at) if f.task in open_tasks else None
            self.fut.append({c: self._union(a.index for d in (every or reach[c])
                                            for a in f.at.get(d, ()))
                             for c in f.at})
        self.loose_atoms = frozenset(x for a in fl.loose for x in ard[a.index])
        self.loose_r = 0
        for a in fl.loose:
            self.loose_r |= rd[a.index]
        self._ok: dict[tuple, bool] = {}

    def _union(self, aids: Iterable[int]) -> tuple[int, int, frozenset, frozenset]:
        r = w = 0
        ra: set = set()
        ca: set = set()
        for i in aids:
            r |= self.rd[i]
            w |= self.wr[i]
            ra |= self.ard[i]
            ca |= self.chg[i]
        return r, w, frozenset(ra), frozenset(ca)

    def _blockers(self, spec: Spec, fl: Flows) -> list[list]:
        """Per task and label, a function giving the bit mask of the actions there that can
        still fire before the task moves (bit i: the i-th action at the label).

        A guard conjunct that is false and reads only slots no other task and no environment
        action writes (the task's own locals: ``head == &IWH``) stays false until the task
        itself moves; so does ``budget > 0`` at 0 for a budget that is only ever decremented
        (signals_left, preemptions_left).  Such a disabled action can neither conflict nor be
        enabled by others, so it is left out of C1 (Valmari's necessary enabling sets)."""
        written_by: dict[int, set[int]] = {}
        decrement_only: set[int] = set()
        other_write: set[int] = set()
        for a in spec.actions:
            for tgt, e in a.effect:
                if isinstance(tgt, Index):
                    other_write.update(v.slot for v in tgt.array.elems)
                    continue
                written_by.setdefault(tgt.slot, set()).add(fl.owner.get(a.index, -1))
                if not (isinstance(e, Op) and e.op == "-" and isinstance(e.args[0], Ref)
                        and e.args[0].var is tgt and isinstance(e.args[1], Const)):
                    other_write.add(tgt.slot)
        decrement_only = {x for x in written_by if x not in other_write}
        out: list[list] = []
        for f in fl.tasks:
            per: list = [None] * (max(f.at, default=0) + 1)
            out.append(per)
            private = {x for x in range(len(spec.vars))
                       if x not in other_write and written_by.get(x, {f.task}) <= {f.task}}
            for c, acts in f.at.items():
                bits = []
                for i, a in enumerate(acts):
                    keep = []
                    for cj in conjuncts(a.guard):
                        reads: set[int] = set()
                        collect_reads(cj, reads)
                        budget = (isinstance(cj, Op) and cj.op == "<"
                                  and isinstance(cj.args[0], Const) and cj.args[0].value == 0
                                  and isinstance(cj.args[1], Ref)
                                  and cj.args[1].var.slot in decrement_only)
                        if budget or reads <= private:
                            keep.append(cj)
                    cond = py_expr(And(*keep)) if keep else "True"
                    bits.append(f"({1 << i} if {cond} else 0)")
                ns: dict[str, object] = {}
                exec(compile(f"def live(s):\n    return {' | '.join(bits)}\n",
                             "<por enabling>", "exec"), ns)
                per[c] = ns["live"]
        return out

    def _visible(self, a: Action, plain: set[int], atoms: list[tuple]) -> bool:
        w = a.writes()
        if w & plain:
            return True
        t = self.fl.owner.get(a.index)
        for slot in w:
            mine = [x for x in atoms if x[0] == slot]
            if not mine:
                continue
            if t is None or self.pc_slots[t] != slot:
                return True
            f = self.fl.tasks[t]
            here = next(c for c, acts in f.at.items() if a in acts)
            for d in f.succ[here][a.index]:
                if any(_atom(x, here) != _atom(x, d) for x in mine):
                    return True
        return False

    def _changed(self, a: Action, universe: set) -> frozenset:
        """The pc comparisons (of any action) whose value a's pc move changes."""
        t = self.fl.owner.get(a.index)
        if t is None:
            return frozenset()
        f = self.fl.tasks[t]
        here = next(c for c, acts in f.at.items() if a in acts)
        return frozenset(x for x in universe if x[0] == f.pc_slot
                         and any(_atom(x, here) != _atom(x, d) for d in f.succ[here][a.index]))

    def candidates(self, s: bytes, out: list[tuple[int, bytes]]) -> list[int]:
        """Tasks whose enabled actions form an ample set at s by C1 and C2."""
        en: dict[int, list[int]] = {}
        owner = self.owner
        for a, _ in out:
            en.setdefault(owner[a], []).append(a)
        if len(en) < 2:
            return []
        pcs = bytes([s[p] for p in self.pc_slots])
        res = []
        for t in en:
            if t < 0:
                continue
            c = pcs[t]
            mask = self.live[t][c](s)
            key = (t, mask, pcs)
            ok = self._ok.get(key)
            if ok is None:
                rel = tuple(a for i, a in enumerate(self.at[t][c]) if mask >> i & 1)
                ok = self._ok[key] = self._independent(t, rel, pcs)
            if ok:
                res.append(t)
        return res

    def _independent(self, t: int, rel: tuple[int, ...], pcs: bytes) -> bool:
        if any(self.visible[a] for a in rel):
            return False
        r, w, ra, ca = self._union(rel)
        if w & (self.loose_r | self.loose_w) or r & self.loose_w or ca & self.loose_atoms:
            return False
        for u in range(len(pcs)):
            if u == t:
                continue
            fut = self.fut[u].get(pcs[u])
            if fut is None:
                continue
            fr, fw, fra, fca = fut
            if w & (fr | fw) or r & fw or ca & fra or ra & fca:
                return False
        return True
