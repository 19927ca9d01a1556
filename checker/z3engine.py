"""The Z3 engine: bounded model checking, k-induction (with strengthening), CHC, races.

Every formula comes from ``checker.z3enc`` (generated from the model's actions).  Every
trace Z3 produces goes through ``replay`` (the reference interpreter, model/eval.py)
before anyone sees it: a trace that does not replay is an engine bug and raises.

Vocabulary:
- a *violation* is a path from the initial state to a state breaking a property: a bug
  of the model (or of the patch it models);
- a *CTI* (counterexample to induction) is a path of k+1 states, none known to be
  reachable, whose first k states satisfy the (strengthened) invariant and whose last does
  not.  It says the proof needs a stronger invariant, nothing about the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.z3enc import Encoder, State
from model.eval import apply, enabled, value
from model.lang import Action, Expr, Spec
from properties.base import DEADLOCK, INVARIANT, Property

Path = list[tuple[int, bytes]]  # [(action index or -1 for the first state, state)]


class ReplayError(Exception):
    """A Z3 trace that the reference interpreter does not accept (an engine bug)."""


def replay(spec: Spec, path: Path, from_init: bool = True) -> None:
    """Check every step of ``path`` with model/eval.py; raise ReplayError if one fails."""
    if not path:
        raise ReplayError("empty path")
    if from_init and path[0][1] != spec.init_state():
        raise ReplayError("the trace does not start in the initial state")
    for k in range(1, len(path)):
        aid, t = path[k]
        s = path[k - 1][1]
        if not 0 <= aid < len(spec.actions):
            raise ReplayError(f"step {k}: no action {aid}")
        a = spec.actions[aid]
        if value(spec.halt, s):
            raise ReplayError(f"step {k}: {a.name} taken from a halted state")
        if not enabled(a, s):
            raise ReplayError(f"step {k}: {a.name} is not enabled")
        try:
            nxt = apply(a, s)
        except ValueError as e:  # a stored value outside 0..255
            raise ReplayError(f"step {k}: {a.name}: {e}") from None
        if nxt != t:
            raise ReplayError(f"step {k}: {a.name} does not lead to the state Z3 gave")


# --------------------------------------------------------------------------- properties


Pred = Callable[[State], z3.BoolRef]


@dataclass
class Goal:
    """A named predicate that must hold in every reachable state."""

    name: str
    holds: Pred
    statement: str = ""
    expr: Expr | None = None  # the same predicate for the explorer's evaluator, if known


def goals_of(enc: Encoder, props: Sequence[Property], finished: Expr | None) -> list[Goal]:
    """Invariants as goals; the deadlock property as "never stuck" (needs ``finished``)."""
    out = []
    for p in props:
        if p.kind == INVARIANT and p.expr is not None:
            e = p.expr
            out.append(Goal(p.name, lambda s, e=e: enc.cond(e, s), p.statement, e))
        elif p.kind == DEADLOCK and finished is not None:
            out.append(Goal(p.name, lambda s: z3.Not(enc.stuck(s, finished)), p.statement))
    return out


def expr_goal(enc: Encoder, name: str, e: Expr, statement: str = "") -> Goal:
    return Goal(name, lambda s: enc.cond(e, s), statement, e)


# --------------------------------------------------------------------------- unrolling


class Unrolling:
    """States s_0..s_n and actions a_1..a_n on one incremental solver."""

    def __init__(self, enc: Encoder, solver: z3.Solver, tag: str,
                 first: bytes | None | str = "init") -> None:
        self.enc, self.solver, self.tag = enc, solver, tag
        self.states: list[State] = [enc.state(f"{tag}0")]
        self.acts: list[z3.BitVecRef] = []
        if first == "init":
            solver.add(enc.init(self.states[0]))
        elif isinstance(first, bytes):
            solver.add(enc.is_value(self.states[0], first))

    @property
    def depth(self) -> int:
        return len(self.acts)

    def extend(self) -> None:
        k = len(self.states)
        s, t = self.states[-1], self.enc.state(f"{self.tag}{k}")
        act = self.enc.act_var(f"{self.tag}{k}")
        self.solver.add(self.enc.step(s, t, act))
        self.states.append(t)
        self.acts.append(act)

    def path(self, model: z3.ModelRef, upto: int | None = None) -> Path:
        n = self.depth if upto is None else upto
        out: Path = [(-1, self.enc.decode(model, self.states[0]))]
        for k in range(1, n + 1):
            aid = model.eval(self.acts[k - 1], model_completion=True).as_long()
            out.append((aid, self.enc.decode(model, self.states[k])))
        return out


_flag_counter = [0]


def _flag(solver: z3.Solver, formula: z3.BoolRef, hint: str) -> z3.BoolRef:
    """A fresh literal that switches ``formula`` on when assumed (incremental checks)."""
    _flag_counter[0] += 1
    b = z3.Bool(f"?{hint}#{_flag_counter[0]}")
    solver.add(z3.Implies(b, formula))
    return b


def _check(solver: z3.Solver, *assumptions: z3.BoolRef) -> z3.CheckSatResult:
    r = solver.check(*assumptions)
    if r == z3.unknown:
        raise RuntimeError(f"z3 returned unknown: {solver.reason_unknown()}")
    return r


# --------------------------------------------------------------------------- BMC


@dataclass
class BmcResult:
    depth: int  # every goal was checked in every state up to this depth
    violations: dict[str, Path] = field(default_factory=dict)  # shortest, replayed
    seconds: list[float] = field(default_factory=list)  # cumulative seconds at each depth
    complete: bool = False  # True when every goal was violated before the bound
    stopped_by: str | None = None  # "max_seconds" when the time budget ran out


def bmc(spec: Spec, goals: Sequence[Goal], depth: int, *,
        progress: Callable[[int, float], None] | None = None,
        stop_at_first: bool = False, max_seconds: float | None = None) -> BmcResult:
    """Shortest violation of each goal within ``depth`` steps, one solver for all depths.

    ``max_seconds`` bounds the whole run (a check in flight is cancelled); ``depth`` is
    then the last depth completely checked."""
    enc = Encoder(spec)
    solver = z3.SolverFor("QF_BV")
    u = Unrolling(enc, solver, "s")
    res = BmcResult(depth=-1)
    pending = list(goals)
    t0 = time.monotonic()

    def check(lit: z3.BoolRef) -> z3.CheckSatResult | None:
        if max_seconds is not None:
            left = max_seconds - (time.monotonic() - t0)
            if left <= 0:
                return None
            solver.set("timeout", max(1, int(left * 1000)))
        r = solver.check(lit)
        return None if r == z3.unknown else r

    for d in range(depth + 1):
        if d > 0:
            u.extend()
        s = u.states[d]
        bads = {g.name: z3.Not(g.holds(s)) for g in pending}
        r = check(_flag(solver, z3.Or(*bads.values()), f"any{d}")) if bads else z3.unsat
        if r is None:
            res.stopped_by = "max_seconds"
            break
        if r == z3.sat:
            for g in list(pending):
                r = check(_flag(solver, bads[g.name], f"{g.name}{d}"))
                if r is None:
                    res.stopped_by = "max_seconds"
                    break
                if r == z3.sat:
                    path = u.path(solver.model())
                    replay(spec, path)
                    res.violations[g.name] = path
                    pending.remove(g)
            if res.stopped_by:
                break
        res.depth = d
        res.seconds.append(time.monotonic() - t0)
        if progress:
            progress(d, res.seconds[-1])
        if not pending or (stop_at_first and res.violations):
            res.complete = not pending
            break
    return res


def reachable_within(spec: Spec, k: int) -> set[bytes]:
    """Every state reachable in at most k steps, enumerated with blocking clauses."""
    enc = Encoder(spec)
    solver = z3.SolverFor("QF_BV")
    u = Unrolling(enc, solver, "r")
    seen: set[bytes] = set()
    for d in range(k + 1):
        if d > 0:
            u.extend()
        s = u.states[d]
        solver.push()
        for x in seen:  # states already known (at any depth) need not be found again
            solver.add(z3.Not(enc.is_value(s, x)))
        while _check(solver) == z3.sat:
            path = u.path(solver.model(), d)
            replay(spec, path)
            t = path[-1][1]
            seen.add(t)
            solver.add(z3.Not(enc.is_value(s, t)))
        solver.pop()
    return seen


# --------------------------------------------------------------------------- induction


@dataclass
class ProofResult:
    goal: str
    status: str  # proved | violated | cti | strengthening-fails | unknown
    engine: str  # k-induction | spacer | houdini
    k: int = 0  # the k of k-induction (proved or last tried)
    path: Path | None = None  # the violation (from init) or the CTI (from a free state)
    failing: list[str] = field(default_factory=list)  # conjuncts false at the path's end
    strengthening: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""


def k_induction(spec: Spec, goal: Goal, strengthening: Sequence[Goal] = (), *,
                max_k: int = 1, simple_path: bool = True) -> ProofResult:
    """Prove ``goal`` by k-induction for k = 1..max_k, over goal /\\ strengthening /\\ domains.

    Base: no state within k-1 steps of init breaks the conjunction (a break of the goal
    there is a real violation; of a strengthening, a wrong strengthening).  Step: k
    consecutive states satisfying the conjunction (pairwise distinct with
    ``simple_path``) cannot step to one that does not; otherwise the last k+1 states
    are a CTI."""
    enc = Encoder(spec)
    t0 = time.monotonic()
    parts = [goal, *strengthening, Goal("domains", enc.domains, "every slot in its domain")]
    names = [g.name for g in strengthening]

    def conj(s: State) -> z3.BoolRef:
        return z3.And(*[g.holds(s) for g in parts])

    base = z3.SolverFor("QF_BV")
    bu = Unrolling(enc, base, "b")
    step = z3.SolverFor("QF_BV")
    su = Unrolling(enc, step, "i", first=None)
    res = ProofResult(goal.name, "unknown", "k-induction", strengthening=names)
    for k in range(1, max_k + 1):
        # base case for depth k-1
        d = k - 1
        if d > 0:
            bu.extend()
        s = bu.states[d]
        for g in parts:
            if _check(base, _flag(base, z3.Not(g.holds(s)), f"base{g.name}{d}")) == z3.sat:
                path = bu.path(base.model())
                replay(spec, path)
                res.path, res.failing, res.k = path, [g.name], k
                res.status = "violated" if g is goal else "strengthening-fails"
                res.detail = (f"{g.name} is broken {d} steps from the initial state"
                              if g is not goal else "")
                res.seconds = time.monotonic() - t0
                return res
        # step case: states i0..i(k-1) satisfy the conjunction, ik must too
        step.add(conj(su.states[-1]))
        su.extend()
        if simple_path:
            last = su.states[-1]
            for prev in su.states[:-1]:
                step.add(z3.Not(enc.equal(prev, last)))
        t = su.states[-1]
        res.k = k
        if _check(step, _flag(step, z3.Not(conj(t)), f"step{k}")) == z3.unsat:
            res.status = "proved"
            res.path, res.failing = None, []
            res.seconds = time.monotonic() - t0
            return res
        m = step.model()
        path = su.path(m)
        replay(spec, path, from_init=False)
        res.status, res.path = "cti", path
        res.failing = [g.name for g in parts
                       if z3.is_false(m.eval(g.holds(t), model_completion=True))]
    res.seconds = time.monotonic() - t0
    return res


@dataclass
class HoudiniResult:
    proof: ProofResult
    used: list[Any] = field(default_factory=list)  # the guesses the proof needs
    rounds: int = 0
    activated: int = 0
    weakened: int = 0
    learned: list[Any] = field(default_factory=list)  # guesses ``learn`` added


def houdini(spec: Spec, goal: Goal, terms: Sequence[Expr], cands: Sequence[Any],
            progress: Callable[[int, int, int], None] | None = None,
            max_rounds: int = 100000,
            learn: Callable[[tuple[int, ...]], Any] | None = None,
            check_timeout_s: float | None = None) -> HoudiniResult:
    """Prove ``goal`` 1-inductive relative to guessed projections (Houdini with weakening).

    ``cands`` are objects with ``premise`` (pairs (term index, value)), ``term`` and
    ``allowed`` (a set of values): the guess "when every premise term has its value,
    ``term`` has an allowed value".  Guesses are
    activated lazily: a CTI s -> t of the active set (goal + active guesses) is first
    blocked by activating the guesses s breaks; when s breaks none, the active guesses t
    breaks are weakened to allow t (the goal cannot be: then the CTI is returned).  At
    the fixpoint the active set is inductive and holds initially, so every member holds
    in every reachable state, whatever the guesses were: a proof by 1-induction.
    ``learn`` (optional) is asked for a new guess excluding s before any weakening.
    ``check_timeout_s`` bounds each CTI query: one that Z3 cannot answer in time ends the
    run as "unknown" (a single query, not the round count, is what stalls on protocol
    invariants, docs/z3.md).  The
    guesses are mutated (their ``allowed`` sets grow).  ``used`` is a subset closed under
    "needed to preserve" (unsat cores from the goal outwards), itself inductive."""
    from checker.compile import py_expr

    enc = Encoder(spec)
    t0 = time.monotonic()
    init = spec.init_state()
    body = ", ".join(f"({py_expr(e)})" for e in terms)
    ns: dict[str, Any] = {}
    exec(compile(f"def f(s):\n    return ({body},)\n", "<terms>", "exec"), ns)
    tv = ns["f"]
    out = HoudiniResult(ProofResult(goal.name, "unknown", "houdini", k=1))
    res = out.proof
    solver = z3.SolverFor("QF_BV")
    solver.set("core.minimize", True)
    u = Unrolling(enc, solver, "h", first=None)
    u.extend()
    s, t = u.states
    solver.add(enc.domains(s))
    zs = [enc.val(e, s) for e in terms]
    zt = [enc.val(e, t) for e in terms]

    def table(c: Any, z: list[z3.BitVecRef]) -> z3.BoolRef:
        return z3.Or(*[z[i] != a for i, a in c.premise],
                     *[z[c.term] == v for v in sorted(c.allowed)])

    def ok(c: Any, vals: tuple[int, ...]) -> bool:
        return vals[c.term] in c.allowed or any(vals[i] != a for i, a in c.premise)

    # Guesses indexed by their premise terms and values: a state only meets the guesses
    # whose premise it satisfies.
    index: dict[tuple[int, ...], dict[tuple[int, ...], list[int]]] = {}
    cands = list(cands)

    def add_index(n: int) -> None:
        c = cands[n]
        key = tuple(i for i, _ in c.premise)
        index.setdefault(key, {}).setdefault(tuple(a for _, a in c.premise), []).append(n)

    for n in range(len(cands)):
        add_index(n)

    def applicable(vals: tuple[int, ...]) -> list[int]:
        out: list[int] = []
        for key, by in index.items():
            out += by.get(tuple(vals[i] for i in key), ())
        return out

    v0 = tv(init)
    for c in cands:  # a guess must at least hold initially
        if ok(c, v0) is False:
            c.allowed.add(v0[c.term])
    lits: dict[int, z3.BoolRef] = {-1: _flag(solver, goal.holds(s), "hgoal")}
    post: dict[int, z3.BoolRef] = {-1: goal.holds(t)}

    def activate(i: int) -> None:
        lits[i] = _flag(solver, table(cands[i], zs), f"h{i}")
        post[i] = table(cands[i], zt)

    cti: Path = []
    if check_timeout_s is not None:
        solver.set("timeout", max(1, int(check_timeout_s * 1000)))
    while True:
        out.rounds += 1
        if progress:
            progress(out.rounds, len(lits) - 1, out.weakened)
        if out.rounds > max_rounds:
            res.detail = f"gave up after {max_rounds} rounds"
            break
        solver.push()
        solver.add(z3.Or(*[z3.Not(x) for x in post.values()]))
        r = solver.check(*lits.values())
        if r == z3.unknown:
            solver.pop()
            res.detail = (f"one Z3 query gave no answer within {check_timeout_s} s "
                          f"(round {out.rounds}, {len(lits) - 1} guesses active)")
            break
        if r == z3.sat:
            m = solver.model()
            cti = u.path(m)
        solver.pop()
        if r == z3.unsat:
            res.status = "proved"
            break
        vs, vt = tv(cti[0][1]), tv(cti[1][1])
        blockers = [i for i in applicable(vs) if i not in lits and vs[cands[i].term]
                    not in cands[i].allowed]
        if blockers:
            for i in blockers:
                activate(i)
            out.activated += len(blockers)
            continue
        new = learn(vs) if learn is not None else None
        if new is not None:  # a fresh guess that excludes s (e.g. s is not reachable)
            cands.append(new)
            add_index(len(cands) - 1)
            activate(len(cands) - 1)
            out.learned.append(new)
            continue
        if not value(goal.expr, cti[1][1]) if goal.expr is not None else \
                z3.is_false(m.eval(post[-1], model_completion=True)):
            replay(spec, cti, from_init=False)
            res.status, res.path, res.failing = "cti", cti, [goal.name]
            res.detail = ("the property is not inductive relative to the guesses "
                          f"(after {out.rounds} rounds, {len(lits) - 1} guesses active)")
            break
        for i in [i for i in lits if i >= 0 and not ok(cands[i], vt)]:
            cands[i].allowed.add(vt[cands[i].term])
            activate(i)  # the weakened guess replaces the old one (its literal is dropped)
            out.weakened += 1
    if res.status == "proved":
        solver.set("timeout", 4294967295)  # Z3's "no limit": the cores below must answer
        # From the goal outwards: the active guesses each one's preservation needs.
        by_lit = {x.get_id(): i for i, x in lits.items()}
        needed, frontier = {-1}, {-1}
        while frontier:
            q = _flag(solver, z3.Not(z3.And(*[post[i] for i in sorted(frontier)])), "core")
            r = _check(solver, q, *lits.values())
            assert r == z3.unsat  # the active set is inductive
            core = {by_lit[c.get_id()] for c in solver.unsat_core() if c.get_id() in by_lit}
            frontier = core - needed
            needed |= core
        out.used = [cands[i] for i in sorted(needed - {-1})]
        res.detail = (f"{len(lits) - 1} of {len(cands)} guesses activated, "
                      f"{out.weakened} weakenings, {out.rounds} rounds; "
                      f"{len(out.used)} needed")
    res.seconds = time.monotonic() - t0
    return out


def spacer(spec: Spec, goal: Goal, timeout_s: float | None = None) -> ProofResult:
    """Unbounded proof with Z3's CHC engine (Spacer): find an inductive invariant Inv
    with init => Inv, Inv /\\ step => Inv', Inv => goal."""
    enc = Encoder(spec)
    t0 = time.monotonic()
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    if timeout_s is not None:
        fp.set(timeout=int(timeout_s * 1000))
    sorts = [z3.BitVecSort(8)] * enc.nslots
    inv = z3.Function("Inv", *sorts, z3.BoolSort())
    err = z3.Function("Err", z3.BoolSort())
    s = enc.state("c")
    t = enc.state("cn")
    act = enc.act_var("c")
    fp.register_relation(inv, err)
    fp.declare_var(*s, *t, act)
    fp.rule(inv(*s), enc.init(s))
    fp.rule(inv(*t), [inv(*s), enc.step(s, t, act)])
    fp.rule(err(), [inv(*s), z3.Not(goal.holds(s))])
    try:
        r = fp.query(err())
    except z3.Z3Exception as e:  # a timeout cancels the query
        r = z3.unknown
        reason = str(e)
    else:
        reason = fp.reason_unknown() if r == z3.unknown else ""
    res = ProofResult(goal.name, "unknown", "spacer", seconds=0.0)
    if r == z3.unsat:
        res.status = "proved"
        res.detail = "Spacer found an inductive invariant"
    elif r == z3.sat:
        res.status = "violated"
        res.detail = "Spacer: reachable (use bmc for the shortest trace)"
    else:
        res.detail = f"Spacer gave no answer ({reason})"
    res.seconds = time.monotonic() - t0
    return res


# --------------------------------------------------------------------------- races


@dataclass
class Operation:
    """A named group of one task's actions (e.g. W0.block = W0's actions at k:wqs.*)."""

    name: str
    task: int
    actions: frozenset[int]
    labels: tuple[str, ...] = ()


@dataclass
class RaceResult:
    op1: str
    op2: str
    found: bool
    depth: int  # witness length, or the bound searched without finding one
    path: Path | None = None
    inside: str = ""  # which operation's instance the other's step interleaved
    cut: list[int] = field(default_factory=list)  # step numbers of the interleaving steps
    seconds: float = 0.0
    breaks: str | None = None


def race(spec: Spec, op1: Operation, op2: Operation, depth: int,
         breaks: Goal | None = None) -> RaceResult:
    """Shortest path on which a step of one operation falls strictly between two steps of
    one instance of the other (optionally ending in a state that breaks ``breaks``).

    An instance of an operation is a maximal run of its task's steps that stay inside the
    operation: the task's first step outside it closes the instance.  Steps of other
    tasks do not close it, so "between" means in real interleaving order.  Two monitors
    (op2 inside op1, op1 inside op2) run beside the model: 0 no instance open, 1 open,
    2 open and the other operation stepped since."""
    enc = Encoder(spec)
    solver = z3.SolverFor("QF_BV")
    u = Unrolling(enc, solver, "x")
    task_acts = own_steps(spec, {op1.task, op2.task})
    t0 = time.monotonic()

    def member(act: z3.BitVecRef, ids: frozenset[int]) -> z3.BoolRef:
        return z3.Or(*[act == i for i in sorted(ids)]) if ids else z3.BoolVal(False)

    mons = {"a": z3.BitVecVal(0, 2), "b": z3.BitVecVal(0, 2)}
    hit: z3.BoolRef = z3.BoolVal(False)
    pairs = {"a": (op1, op2), "b": (op2, op1)}
    res = RaceResult(op1.name, op2.name, False, depth,
                     breaks=None if breaks is None else breaks.name)
    for d in range(1, depth + 1):
        u.extend()
        act = u.acts[-1]
        hits = []
        for key, (outer, inner) in pairs.items():
            m = mons[key]
            in_outer = member(act, outer.actions)
            in_task = member(act, task_acts[outer.task])
            in_inner = member(act, inner.actions)
            hits.append(z3.And(in_outer, m == 2))
            nxt = z3.If(in_outer, z3.BitVecVal(1, 2),
                        z3.If(in_task, z3.BitVecVal(0, 2),
                              z3.If(z3.And(in_inner, m != 0), z3.BitVecVal(2, 2), m)))
            fresh = z3.BitVec(f"mon{key}{d}", 2)
            solver.add(fresh == nxt)
            mons[key] = fresh
        h = z3.Bool(f"hit{d}")
        solver.add(h == z3.Or(hit, *hits))
        hit = h
        goal = hit if breaks is None else z3.And(hit, z3.Not(breaks.holds(u.states[-1])))
        if _check(solver, _flag(solver, goal, f"race{d}")) == z3.sat:
            path = u.path(solver.model())
            replay(spec, path)
            res.found, res.depth, res.path = True, d, path
            res.inside, res.cut = _explain(path, op1, op2, task_acts)
            break
    res.seconds = time.monotonic() - t0
    return res


def _explain(path: Path, op1: Operation, op2: Operation,
             task_acts: dict[int, frozenset[int]]) -> tuple[str, list[int]]:
    """Re-run the monitors on the replayed path to name the interleaving steps."""
    for outer, inner in ((op1, op2), (op2, op1)):
        start, inner_steps = None, []
        for k in range(1, len(path)):
            aid = path[k][0]
            if aid in outer.actions:
                if start is not None and inner_steps:
                    return f"{inner.name} inside {outer.name}", [start, *inner_steps, k]
                start, inner_steps = k, []
            elif aid in task_acts[outer.task]:
                start, inner_steps = None, []
            elif aid in inner.actions and start is not None:
                inner_steps.append(k)
    return "", []


def actions_of(spec: Spec, ids: frozenset[int]) -> list[Action]:
    return [spec.actions[i] for i in sorted(ids)]


# Kernel label families (the text between "k:" and the first dot) and the operation
# they belong to; docs/model-v0.2.md "Program counters" maps them to the patch.
KERNEL_OPS = {"wqs": "block", "wqr": "wake_detect", "hidle": "wake_detect", "wait": "swap",
              "idle": "idle_loop", "wake": "wake_only", "sched": "schedule", "io": "io",
              "wrk": "register"}
SERVER_OPS = {"srv.register": "register", "srv.loop": "take_idle", "srv.walk": "take_idle",
              "srv.restore": "take_idle", "srv.enqueue": "take_idle", "srv.pick": "run_worker",
              "srv.run": "run_worker", "srv.after": "after_wait", "srv.eintr": "after_wait",
              "srv.idle": "go_idle"}


def _label_of(a: Action, pc_slots: dict[int, int], labels: Sequence[str]) -> str | None:
    from checker.compile import dispatch_key

    key = dispatch_key(a, set(pc_slots))
    return None if key is None else labels[key[1]]


def operation_of(label: str, op_names: Sequence[str]) -> str | None:
    """The operation an action at ``label`` belongs to (None: not part of one)."""
    if label.startswith("k:"):
        return KERNEL_OPS.get(label[2:].split(".")[0])
    if not label.startswith("u:"):
        return None
    rest = label[2:]
    for prefix, op in SERVER_OPS.items():
        if rest == prefix or rest.startswith(prefix + "."):
            return op
    if rest.startswith("wrk."):
        return "register"
    if rest.startswith("exit"):
        return "exit"
    if rest.startswith("op"):
        k = int(rest[2:].split(".")[0])
        name = op_names[k] if k < len(op_names) else f"op{k}"
        # A workload op that is also a kernel operation's name gets a "user_" prefix
        # (the I/O syscall entry of "block" is W.io, not W.block).
        if name in ("block", "swap"):
            name = {"block": "io", "swap": "swap_user"}[name]
        dup = [n for n in op_names[:k] if n == op_names[k]]
        return f"{name}{len(dup) + 1}" if dup else name
    return None


def operations(model) -> dict[str, Operation]:  # type: ignore[no-untyped-def]
    """Nameable operations of a v0.2 model: each task's actions grouped by the pc label
    families they are guarded on (``W0.block``, ``W1.wake_detect``, ``S0.go_idle``, ...);
    environment actions are ``W0.env.io_complete``, ``W0.env.preempt``, ``S0.env.signal``."""
    spec = model.spec
    pc_slots = {v.slot: t for t, v in enumerate(spec.pc_vars)}
    groups: dict[str, tuple[int, set[int], set[str]]] = {}
    workers = [t.index for t in model.workers]
    for a in spec.actions:
        if a.task is None:
            continue
        tname = spec.task_names[a.task]
        ops = model.params.ops[workers.index(a.task)] if a.task in workers else ()
        label = _label_of(a, pc_slots, model.labels)
        if a.actor == "E":
            op = "env." + a.name.removeprefix("env.")
        elif label is None:
            continue
        else:
            op = operation_of(label, ops)
            if op is None:
                continue
        g = groups.setdefault(f"{tname}.{op}", (a.task, set(), set()))
        g[1].add(a.index)
        if label is not None and a.actor != "E":
            g[2].add(label)
    return {name: Operation(name, t, frozenset(ids), tuple(sorted(labs)))
            for name, (t, ids, labs) in sorted(groups.items())}


def own_steps(spec: Spec, tasks: set[int]) -> dict[int, frozenset[int]]:
    """The steps each task takes itself (kernel and user space); what the environment does
    to a task (a signal, an I/O completion) does not end the task's operation."""
    return {t: frozenset(a.index for a in spec.actions if a.task == t and a.actor != "E")
            for t in tasks}


def monitor_step(m: int, aid: int, outer: Operation, inner: Operation,
                 own: frozenset[int]) -> tuple[int, bool]:
    """One step of the monitor that watches an instance of `outer` (its task's consecutive
    steps that belong to it): 0 no instance in progress, 1 in progress, 2 a step of `inner`
    came in the middle.  Returns the new value and whether `outer` just took a step after
    such an intrusion (the interleaving)."""
    if aid in outer.actions:
        return 1, m == 2
    if aid in own:
        return 0, False
    if aid in inner.actions and m:
        return 2, False
    return m, False


def race_exhaustive(spec: Spec, op1: Operation, op2: Operation, breaks: Expr | None = None,
                    max_states: int | None = None) -> RaceResult:
    """The same question as ``race``, answered by breadth-first search of the product of
    the model with the two monitors (compiled successors, as the explorer uses).

    Exhaustive, so "no" is a proof for this configuration, and the first hit is a
    shortest witness; tests check that it agrees with the Z3 query."""
    from checker.compile import compile_expr, compile_spec

    t0 = time.monotonic()
    succ = compile_spec(spec).successors
    bad = compile_expr(breaks) if breaks is not None else None
    task_acts = own_steps(spec, {op1.task, op2.task})
    pairs = ((op1, op2, task_acts[op1.task]), (op2, op1, task_acts[op2.task]))

    mon = monitor_step

    init = (spec.init_state(), 0, 0, False)
    seen = {init}
    order = [init]
    parent = [-1]
    via = [-1]
    i = 0
    found = -1
    while i < len(order):
        s, ma, mb, hit = order[i]
        for aid, t in succ(s):
            na, ha = mon(ma, aid, *pairs[0])
            nb, hb = mon(mb, aid, *pairs[1])
            h = hit or ha or hb
            node = (t, na, nb, h)
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            parent.append(i)
            via.append(aid)
            if h and (bad is None or not bad(t)):
                found = len(order) - 1
                break
        if found >= 0 or (max_states is not None and len(order) > max_states):
            break
        i += 1
    res = RaceResult(op1.name, op2.name, found >= 0, 0, seconds=0.0)
    res.states = len(order)  # type: ignore[attr-defined]
    res.complete = found >= 0 or i >= len(order)  # type: ignore[attr-defined]
    if found >= 0:
        path: Path = []
        j = found
        while j >= 0:
            path.append((via[j], order[j][0]))
            j = parent[j]
        path.reverse()
        replay(spec, path)
        res.path, res.depth = path, len(path) - 1
        res.inside, res.cut = _explain(path, op1, op2, task_acts)
    res.seconds = time.monotonic() - t0
    return res
