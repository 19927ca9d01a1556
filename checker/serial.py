"""Outcomes that only interleaving reaches: the second question of `umcg-check race`.

Two operations are *serial* in a run if no step of one falls inside an instance of the
other (other tasks may interleave freely).  An outcome is the projection of a state onto
chosen variables (by default the user-visible ones: user memory and the die/abort
outcomes), taken where neither operation is in progress and both have completed at least
once.  An outcome reached by some run in which the two interleaved, and by no run in which
they stayed serial, is something the serial orders never give: a race that matters even
when no invariant names it.  The search is exhaustive over the product of the model with
the two monitors, so an empty answer is a proof for the configuration."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from checker.compile import compile_spec
from checker.z3engine import Operation, Path, monitor_step, own_steps, replay
from model.lang import Spec, Var


@dataclass
class OutcomeResult:
    op1: str
    op2: str
    project: list[str]
    serial: int = 0  # distinct outcomes some serial run reaches
    interleaved: int = 0  # distinct outcomes some interleaved run reaches
    only_interleaved: list[tuple[int, ...]] = field(default_factory=list)
    witness: Path | None = None  # shortest run to the first interleaving-only outcome
    states: int = 0
    seconds: float = 0.0


def default_projection(spec: Spec) -> list[Var]:
    return [v for v in spec.vars if v.group == "user" or v.name in ("umcg_die", "user_abort")]


def outcomes(spec: Spec, op1: Operation, op2: Operation,
             project: Sequence[Var] | None = None, max_states: int | None = None
             ) -> OutcomeResult:
    t0 = time.monotonic()
    proj = list(project) if project is not None else default_projection(spec)
    slots = [v.slot for v in proj]
    succ = compile_spec(spec).successors
    own = own_steps(spec, {op1.task, op2.task})
    # product node: (state, monitor 1, monitor 2, completed bits, interleaved so far)
    init = (spec.init_state(), 0, 0, 0, False)
    seen = {init}
    order = [init]
    parent, via = [-1], [-1]
    first_at: dict[tuple[tuple[int, ...], bool], int] = {}
    i = 0
    while i < len(order):
        s, ma, mb, done, inter = order[i]
        if ma == 0 and mb == 0 and done == 3:
            first_at.setdefault((tuple(s[k] for k in slots), inter), i)
        for aid, t in succ(s):
            na, ha = monitor_step(ma, aid, op1, op2, own[op1.task])
            nb, hb = monitor_step(mb, aid, op2, op1, own[op2.task])
            nd = done | (1 if ma and not na else 0) | (2 if mb and not nb else 0)
            node = (t, na, nb, nd, inter or ha or hb)
            if node not in seen:
                seen.add(node)
                order.append(node)
                parent.append(i)
                via.append(aid)
        i += 1
        if max_states is not None and len(order) > max_states:
            raise RuntimeError(f"more than {max_states} product states")
    serial = {o for (o, inter) in first_at if not inter}
    inter_ = {o for (o, inter) in first_at if inter}
    only = sorted(inter_ - serial, key=lambda o: first_at[(o, True)])
    res = OutcomeResult(op1.name, op2.name, [v.name for v in proj], len(serial), len(inter_),
                        only, states=len(order))
    if only:
        j = first_at[(only[0], True)]
        path: Path = []
        while j >= 0:
            path.append((via[j], order[j][0]))
            j = parent[j]
        path.reverse()
        replay(spec, path)
        res.witness = path
    res.seconds = time.monotonic() - t0
    return res
