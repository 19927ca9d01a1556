"""Each task's control flow: which actions run at which pc label, and where they go.

Read by the dead-variable analysis (checker/deadvars.py) and by partial-order reduction
(checker/por.py).  An action belongs to task t's flow when its guard has the conjunct
``pc[t] == label`` (the explorer's dispatch key, checker/compile.py); its successor labels are
the constants it may store into pc[t].  A store of a return-address local (``pc := ret_sys``,
v0.2 builder.ret_to_user) may go to any label ever stored into that local.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from checker.compile import dispatch_key
from model.lang import Action, Const, Expr, Op, Ref, Spec, Var


@dataclass
class TaskFlow:
    task: int
    pc_slot: int
    at: dict[int, list[Action]] = field(default_factory=dict)  # label -> actions there
    succ: dict[int, dict[int, set[int]]] = field(default_factory=dict)  # label -> action -> labels

    def reach(self) -> dict[int, set[int]]:
        """Labels reachable from each label (itself included)."""
        edges: dict[int, set[int]] = defaultdict(set)
        for c, per in self.succ.items():
            for targets in per.values():
                edges[c] |= targets
        out: dict[int, set[int]] = {}
        for c in self.at:
            seen, todo = {c}, [c]
            while todo:
                for d in edges.get(todo.pop(), ()):
                    if d not in seen:
                        seen.add(d)
                        todo.append(d)
            out[c] = seen
        return out


@dataclass
class Flows:
    tasks: list[TaskFlow]
    owner: dict[int, int]  # action index -> task whose flow it belongs to
    loose: list[Action]  # actions with no pc dispatch (environment: I/O completion, CPUs)
    labels: set[int]  # every pc value


def _values_stored(spec: Spec, var: Var, labels: set[int], depth: int = 0) -> set[int]:
    """Every value any action may store into var (plus its initial value)."""
    out = {var.init}
    for a in spec.actions:
        for tgt, e in a.effect:
            if tgt is var:
                out |= _values(spec, e, labels, depth + 1)
            elif not isinstance(tgt, Var) and any(v is var for v in tgt.array.elems):
                out |= _values(spec, e, labels, depth + 1)
    return out


def _values(spec: Spec, e: Expr, labels: set[int], depth: int = 0) -> set[int]:
    """The values an expression may take: constants, ite branches, locals' stored values."""
    if isinstance(e, Const):
        return {e.value}
    if isinstance(e, Op) and e.op == "ite":
        return _values(spec, e.args[1], labels, depth) | _values(spec, e.args[2], labels, depth)
    if isinstance(e, Ref) and depth < 4:
        return _values_stored(spec, e.var, labels, depth)
    return set(labels)


def flows(spec: Spec) -> Flows:
    pc_slots = {v.slot: t for t, v in enumerate(spec.pc_vars)}
    labels = set(range(spec.pc_vars[0].domain.hi + 1)) if spec.pc_vars else set()
    tf = [TaskFlow(t, v.slot) for t, v in enumerate(spec.pc_vars)]
    owner: dict[int, int] = {}
    loose: list[Action] = []
    for a in spec.actions:
        k = dispatch_key(a, set(pc_slots))
        if k is None:
            loose.append(a)
            continue
        t = pc_slots[k[0]]
        owner[a.index] = t
        f = tf[t]
        f.at.setdefault(k[1], []).append(a)
        targets = {k[1]}
        for tgt, e in a.effect:
            if isinstance(tgt, Var) and tgt.slot == f.pc_slot:
                targets = _values(spec, e, labels)
        f.succ.setdefault(k[1], {})[a.index] = targets
    return Flows(tf, owner, loose, labels)


def writes_pc_elsewhere(spec: Spec, fl: Flows) -> set[int]:
    """Tasks whose pc some action outside their own flow writes (their flow is then open)."""
    out = set()
    for a in spec.actions:
        w = a.writes()
        for f in fl.tasks:
            if f.pc_slot in w and fl.owner.get(a.index) != f.task:
                out.add(f.task)
    return out
