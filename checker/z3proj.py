"""Projection invariants: proofs by 1-induction strengthened with facts of the reachable states.

For a tuple of terms (state slots, or the nodes of an idle list), the set of value tuples
the explorer's reachable states take there is an invariant: "(W0.pc, S0.pc, IWH) is one
of these 37 triples".  ``prove`` looks for a set of such projections that makes a property
1-inductive, one counterexample to induction (CTI) at a time:

1. Z3 looks for s -> t with s satisfying the property, the projections chosen so far and
   the slot domains, and t breaking one of them.  None: the conjunction is inductive, and
   it holds initially (every projection contains the initial state's values), so it holds
   in every reachable state -- a proof by 1-induction whatever the explored states were.
2. Otherwise s is not reachable (every step from a reachable state keeps every true
   projection).  The fewest terms on which no explored state agrees with s (one term,
   else the best pair, else greedily) give the next projection: it is false at s, and
   it excludes with s every state that shares those values, which is what makes this
   converge where one cube per CTI did not (docs/z3.md, "Houdini").

The search may start from more than the property (``seed``): the one- and two-term
projections (``Reach.seeds``) and, for a configuration with more than two tasks, the
pairwise *task views* (``task_views``: all terms of two tasks and the shared ones), which
prove INV-12 on `default` without a single CTI (docs/z3.md).

Nothing taken from the explorer is trusted: the explored states only *suggest* tuples.
If the explorer missed a reachable state, a projection would be false, and Z3 then keeps
finding CTIs (the loop ends with no projection to add), never a wrong proof.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.z3enc import Encoder
from checker.z3engine import Goal, Path, ProofResult, _flag, replay
from checker.z3mine import Term, _column, values
from model.lang import And, Expr, Or, Ref, Spec

BATCH_MS = 3000  # Z3's time for a query about several conjuncts before they are split
BIG_ROWS = 20000  # rows in a batch above which it is split without trying it whole


@dataclass(frozen=True)
class Projection:
    """``terms`` (indices into the term list) take one of ``rows`` (value tuples)."""

    terms: tuple[int, ...]
    rows: frozenset[tuple[int, ...]]


class Reach:
    """The explored states as one column of values per term, with a row mask per value
    (a Python int with bit 8*r set when state r has that value: an AND is a join)."""

    def __init__(self, ts: Sequence[Term], states: Sequence[bytes]) -> None:
        self.terms = list(ts)
        self.cols = [_column(t, states) for t in ts]
        self.n = len(states)
        self.value_of = values(ts)
        self.width = [len(set(c)) for c in self.cols]  # distinct values of each term

    def _mask(self, k: int, v: int) -> int:
        table = bytes(1 if x == v else 0 for x in range(256))
        return int.from_bytes(self.cols[k].translate(table), "little")

    def separating(self, vals: Sequence[int]) -> tuple[int, ...] | None:
        """The fewest terms on which no explored state has ``vals`` (None: some explored
        state has ``vals`` on every term, i.e. the state is an explored state)."""
        n = len(self.cols)
        masks = [self._mask(k, vals[k]) for k in range(n)]
        singles = [k for k in range(n) if masks[k] == 0]
        if singles:
            return (min(singles, key=lambda k: self.width[k]),)
        # The pair with the fewest possible rows (a small table is a cheap constraint for
        # Z3, and each row it leaves out excludes many states).
        best: tuple[int, int] | None = None
        for a in range(n):
            for b in range(a + 1, n):
                if masks[a] & masks[b] == 0:
                    score = self.width[a] * self.width[b]
                    if best is None or score < best[0]:
                        best = (score, a * n + b)
        if best is not None:
            return divmod(best[1], n)
        # Greedy: add the term that leaves the fewest explored states agreeing with vals.
        chosen: list[int] = []
        match = -1
        while match:
            pick = min((k for k in range(n) if k not in chosen),
                       key=lambda k: ((match & masks[k]).bit_count(), self.width[k]),
                       default=None)
            if pick is None or (match & masks[pick]) == match:
                return None
            chosen.append(pick)
            match &= masks[pick]
        for k in list(chosen):  # drop what is not needed to tell s apart
            rest = [x for x in chosen if x != k]
            m = -1
            for x in rest:
                m &= masks[x]
            if rest and m == 0:
                chosen = rest
        return tuple(sorted(chosen))

    def _key(self, terms: Sequence[int]) -> Any:
        """One integer per explored state: its values on ``terms``, 8 bits each."""
        import numpy as np

        if not hasattr(self, "_np"):
            self._np = [np.frombuffer(c, dtype=np.uint8).astype(np.uint64) for c in self.cols]
        key = np.zeros(self.n, dtype=np.uint64)
        for k in terms:
            key = (key << np.uint64(8)) | self._np[k]
        return key

    def projection(self, terms: Sequence[int]) -> Projection:
        import numpy as np

        m = len(terms)
        if m > 8:  # more than a 64-bit key holds: unique rows of the columns side by side
            arr = np.stack([np.frombuffer(self.cols[k], dtype=np.uint8) for k in terms],
                           axis=1)
            return Projection(tuple(terms),
                              frozenset(map(tuple, np.unique(arr, axis=0).tolist())))
        rows = frozenset(tuple((int(x) >> (8 * (m - 1 - i))) & 255 for i in range(m))
                         for x in np.unique(self._key(terms)))
        return Projection(tuple(terms), rows)

    def seeds(self, domain_sizes: Sequence[int]) -> list[Projection]:
        """The projections stated before any CTI: every term whose explored values are
        fewer than its domain, and every pair of terms that do not take all the
        combinations of their values (``IWH == &W0`` only while W0 is IDLE, ...).
        Facts over one or two terms are cheap for Z3 and the CTI loop would otherwise
        find them one round of queries at a time."""
        import numpy as np

        out = [self.projection((k,)) for k in range(len(self.cols))
               if self.width[k] < domain_sizes[k]]
        vary = [k for k in range(len(self.cols)) if self.width[k] > 1]
        for i, a in enumerate(vary):
            for b in vary[i + 1:]:
                n = int(np.count_nonzero(np.bincount(self._key((a, b)).astype(np.int64),
                                                     minlength=65536)))
                if n < self.width[a] * self.width[b]:
                    out.append(self.projection((a, b)))
        return out

    def holds(self, p: Projection, vals: Sequence[int]) -> bool:
        return tuple(vals[k] for k in p.terms) in p.rows


def task_images(ts: Sequence[Term], groups: Sequence[Sequence[str]]
                ) -> Callable[[tuple[int, ...]], list[tuple[int, ...]]]:
    """For a tuple of terms, the same terms of the other tasks of each kind (``groups``:
    task names by kind, e.g. ``[["S0"], ["W0", "W1"]]``): ``(S0.pc, W0.first)`` gives
    ``(S0.pc, W1.first)``.  A fact the CTI loop needed about W0 is usually needed about
    W1 too; stating it at once saves the round of queries that would find it.  Terms
    that belong to no task (list heads, list nodes) stay as they are."""
    by_name = {t.name: i for i, t in enumerate(ts)}
    perms: list[dict[str, str]] = []
    for combo in itertools.product(*[itertools.permutations(g) for g in groups]):
        m = {a: b for g, img in zip(groups, combo, strict=True)
             for a, b in zip(g, img, strict=True)}
        if any(a != b for a, b in m.items()):
            perms.append(m)

    def image(terms: tuple[int, ...]) -> list[tuple[int, ...]]:
        out: list[tuple[int, ...]] = []
        for m in perms:
            img = []
            for k in terms:
                task, dot, rest = ts[k].name.partition(".")
                img.append(by_name.get(f"{m[task]}.{rest}", k) if dot and task in m else k)
            t = tuple(sorted(img))
            if t != tuple(sorted(terms)) and t not in out and len(set(t)) == len(t):
                out.append(t)
        return out

    return image


def task_view(ts: Sequence[Term], reach: Reach, group: Sequence[str]) -> Projection:
    """The projection onto every term of the tasks in ``group`` and every shared term
    (list heads and nodes, the run queue, the environment's budgets): the values those
    tasks and the shared memory take together.  A term belongs to task T when its name
    is ``T.<field>`` (the model's slot names); the others are shared.  Terms that take
    one value are left to the one-term seeds."""
    picked = []
    for i, t in enumerate(ts):
        task, dot, _ = t.name.partition(".")
        if (not dot or task in group) and reach.width[i] > 1:
            picked.append(i)
    return reach.projection(tuple(picked))


def task_views(ts: Sequence[Term], reach: Reach, tasks: Sequence[str], k: int
               ) -> dict[Projection, tuple[str, ...]]:
    """``task_view`` for every ``k`` of the ``tasks`` (with the group it was made for).
    With k = 2 the conjunction is a pairwise (thread-modular) invariant: all it cannot
    say is a relation among three tasks at once."""
    return {task_view(ts, reach, g): g for g in itertools.combinations(tasks, k)}


def encode(p: Projection, zs: Sequence[z3.BitVecRef], outer: Collection[int] = ()
           ) -> z3.BoolRef:
    """``p`` over the term values ``zs``, as a trie of equalities.  The ``outer`` terms
    (the pcs: an action's guard fixes its task's pc, which cuts the trie to one branch at
    once) go outermost, then the terms with the fewest distinct values: on the task views
    that makes the trie 2-3 times smaller than the terms' own order, and Z3 shares the
    equal sub-tries."""
    m = len(p.terms)
    order = sorted(range(m), key=lambda i: (p.terms[i] not in outer,
                                            len({r[i] for r in p.rows})))
    made: dict[tuple[int, tuple[tuple[int, ...], ...]], z3.BoolRef] = {}

    def node(depth: int, rows: list[tuple[int, ...]]) -> z3.BoolRef:
        if depth == m:
            return z3.BoolVal(True)
        x = zs[p.terms[order[depth]]]
        by: dict[int, list[tuple[int, ...]]] = {}
        for r in rows:
            by.setdefault(r[order[depth]], []).append(r)
        kids = []
        for v, sub in sorted(by.items()):
            # Equal row sets below equal depths are one sub-trie: build it once.
            key = (depth + 1, tuple(tuple(r[order[i]] for i in range(depth + 1, m))
                                    for r in sub))
            if key not in made:
                made[key] = node(depth + 1, sub)
            kids.append(z3.And(x == v, made[key]))
        return z3.Or(*kids)

    return node(0, sorted(p.rows))


def describe(ts: Sequence[Term], p: Projection, limit: int = 6,
             view: Sequence[str] | None = None) -> str:
    """``(W0.pc, IWH) in {(k:wqr.popped, &S0), ...}`` with at most ``limit`` rows shown;
    a task view (``view``: its tasks) by what it is."""
    if view is not None:
        return (f"view of {', '.join(view)} and the shared variables: their {len(p.terms)} "
                f"terms take one of the {len(p.rows):,} value tuples of the explored states")
    names = ", ".join(ts[k].name for k in p.terms)
    rows = sorted(p.rows)
    shown = ["(" + ", ".join(ts[k].show(v) for k, v in zip(p.terms, r, strict=True)) + ")"
             if len(p.terms) > 1 else ts[p.terms[0]].show(r[0]) for r in rows[:limit]]
    more = f", ... {len(rows) - limit} more" if len(rows) > limit else ""
    return f"({names}) in {{{', '.join(shown)}{more}}}  [{len(rows)} of the explored values]"


@dataclass
class ProjectionProof:
    proof: ProofResult
    used: list[Projection] = field(default_factory=list)  # the proof's strengthening
    found: int = 0  # projections added by the CTI loop
    queries: int = 0  # Z3 queries (one action, a batch of conjuncts each)
    # For each kept projection, a CTI of the others: (state, action index) -- see
    # ``needed_without``.  Filled by the minimization.
    witness: dict[Projection, tuple[bytes, int]] = field(default_factory=dict)


class _Step:
    """The step case asked one action at a time, over a growing list of conjuncts
    (0 is the goal, 1.. projections), each switched on at s by its own literal."""

    def __init__(self, spec: Spec, goal: Goal, reach: Reach,
                 check_timeout_s: float | None) -> None:
        self.spec, self.goal, self.reach = spec, goal, reach
        self.enc = enc = Encoder(spec)
        self.solver = z3.SolverFor("QF_BV")
        # Smaller cores make the closure from the goal smaller and the minimization cheaper.
        self.solver.set("core.minimize", True)
        self.timeout_ms = 4294967295 if check_timeout_s is None else \
            max(1, int(check_timeout_s * 1000))
        self.s = enc.state("p0")
        self.ms: dict[int, z3.ExprRef] = {}
        self.solver.add(enc.domains(self.s), z3.Not(enc.halt(self.s, self.ms)))
        self.zs = [enc.val(term.expr, self.s, self.ms) for term in reach.terms]
        self.term_reads = [_reads(term.expr) for term in reach.terms]
        pcs = {v.slot for v in spec.pc_vars}
        self.pc_terms = {i for i, r in enumerate(self.term_reads) if len(r) == 1 and r <= pcs
                         and isinstance(reach.terms[i].expr, Ref)}
        self.writes = [a.writes() for a in spec.actions]
        self.forms: list[z3.BoolRef] = [goal.holds(self.s)]
        self.size = [0]  # rows of each conjunct (the goal: none)
        self.lits = [_flag(self.solver, self.forms[0], "pgoal")]
        self.reads = [_reads(goal.expr) if goal.expr is not None else set(range(enc.nslots))]
        self.projs: list[Projection] = []
        self.after: dict[int, list[tuple[z3.BitVecRef, z3.BitVecRef]]] = {}
        self.queries = 0
        # Per action, the conjuncts assumed at s: those reading what the action reads or
        # writes, and every one a model of an earlier query broke (lazy activation: a
        # query over all conjuncts is a constraint puzzle Z3 may need minutes for).
        self.local: dict[int, set[int]] = {}
        self.origin: dict[int, tuple[bytes, int]] = {}  # the CTI each projection excluded
        self.action_slots = [a.reads() | a.writes() for a in spec.actions]

    def holds(self, c: int, s: bytes, vals: Sequence[int]) -> bool:
        from model.eval import value

        if c == 0:
            return self.goal.expr is None or bool(value(self.goal.expr, s))
        return self.reach.holds(self.projs[c - 1], vals)

    def ask(self, ai: int, batch: set[int], allowed: Sequence[int]
            ) -> tuple[z3.CheckSatResult, bytes | set[int] | None]:
        """``query`` over the ``allowed`` conjuncts, assuming at s only the ones this
        action needs: a model that breaks another allowed conjunct activates it and asks
        again, so a sat answer is a state satisfying every allowed conjunct."""
        allow = set(allowed)
        local = self.local.setdefault(ai, {0} | {c for c in range(1, len(self.lits))
                                                 if self.reads[c] & self.action_slots[ai]})
        while True:
            r, got = self.query(ai, batch, sorted((local | batch | {0}) & allow))
            if r != z3.sat:
                return r, got
            assert isinstance(got, bytes)
            vals = self.reach.value_of(got)
            broken = {c for c in allow if not self.holds(c, got, vals)}
            if not broken:
                return r, got
            local |= broken

    def cti_without(self, rest: Sequence[int], s: bytes, ai: int) -> bool:
        """Does action ai lead from s, which satisfies the ``rest`` conjuncts (and the
        domains, not halted), to a state that breaks one?  Concrete, model/eval.py."""
        from model.eval import enabled, value

        spec = self.spec
        if value(spec.halt, s) or not enabled(spec.actions[ai], s) or not _in_domains(spec, s):
            return False
        vals = self.reach.value_of(s)
        if not all(self.holds(c, s, vals) for c in rest):
            return False
        try:
            t = apply_action(spec, ai, s)
        except ValueError:
            return False
        tv = self.reach.value_of(t)
        return not _in_domains(spec, t) or not all(self.holds(c, t, tv) for c in rest)

    def add(self, p: Projection) -> int:
        self.projs.append(p)
        self.size.append(len(p.rows))
        self.forms.append(encode(p, self.zs, self.pc_terms))
        self.lits.append(_flag(self.solver, self.forms[-1], f"p{len(self.projs)}"))
        self.reads.append(set().union(*[self.term_reads[k] for k in p.terms]))
        return len(self.projs)

    def affects(self, ai: int, c: int) -> bool:
        return bool(self.writes[ai] & self.reads[c])

    def post(self, ai: int, c: int) -> z3.BoolRef:
        # A conjunct after action ai: the conjunct over s with each slot ai writes
        # replaced by its new value (substitution is done inside Z3, which is what keeps
        # hundreds of projections over ~500 actions cheap to state).
        if ai not in self.after:
            t = self.enc.next_state(self.spec.actions[ai], self.s, dict(self.ms))
            self.after[ai] = [(self.s[i], t[i]) for i in sorted(self.writes[ai])]
        sub = self.after[ai]
        f = z3.substitute(self.forms[c], *sub)
        if c == 0:
            doms = [_domain(self.spec, i, t) for i, (_, t) in
                    zip(sorted(self.writes[ai]), sub, strict=True)]
            return z3.And(f, *doms)
        return f

    def query(self, ai: int, batch: set[int], active: Sequence[int]
              ) -> tuple[z3.CheckSatResult, bytes | set[int] | None]:
        """Can action ai, from a state satisfying the ``active`` conjuncts, break one in
        ``batch``?  sat: the state; unsat: the active conjuncts the answer needed.

        A batch gets a short time; one Z3 cannot answer is asked conjunct by conjunct
        (a query about one projection is much easier than about fifty at once).  A batch
        with a big conjunct (a task view) is asked conjunct by conjunct at once: on
        `default`'s views the batched query nearly always ran out of its time."""
        self.solver.set("timeout", self.timeout_ms)
        if len(batch) > 1 and sum(self.size[c] for c in batch) <= BIG_ROWS:
            self.solver.set("timeout", min(self.timeout_ms, BATCH_MS))
            r, got = self._query(ai, batch, active)
            self.solver.set("timeout", self.timeout_ms)
            if r != z3.unknown:
                return r, got
        if len(batch) == 1:
            return self._query(ai, batch, active)
        core: set[int] = set()
        for c in sorted(batch):
            r, got = self._query(ai, {c}, active)
            if r != z3.unsat:
                return r, got
            assert isinstance(got, set)
            core |= got
        return z3.unsat, core

    def _query(self, ai: int, batch: set[int], active: Sequence[int]
               ) -> tuple[z3.CheckSatResult, bytes | set[int] | None]:
        a = self.spec.actions[ai]
        memo = dict(self.ms)
        bad = z3.And(self.enc.guard(a, self.s, memo), self.enc.defined(a, self.s, memo),
                     z3.Or(*[z3.Not(self.post(ai, c)) for c in sorted(batch)]))
        self.queries += 1
        # push/pop, not a literal per query: the solver keeps no trace of earlier actions.
        self.solver.push()
        self.solver.add(bad)
        try:
            r = self.solver.check(*[self.lits[c] for c in active])
            if r == z3.sat:
                return r, self.enc.decode(self.solver.model(), self.s)
            if r == z3.unsat:
                by_lit = {self.lits[c].get_id(): c for c in active}
                return r, {by_lit[x.get_id()] for x in self.solver.unsat_core()
                           if x.get_id() in by_lit}
            return r, None
        finally:
            self.solver.pop()


def prove(spec: Spec, goal: Goal, reach: Reach, *,
          seed: Sequence[Projection] = (),
          progress: Callable[[int, int, int], None] | None = None,
          max_projections: int = 5000, check_timeout_s: float | None = None,
          minimize: bool = True, learn: bool = True,
          minimize_progress: Callable[[int, int, int], None] | None = None,
          minimize_seconds: float = 600.0,
          companions: Callable[[tuple[int, ...]], list[tuple[int, ...]]] | None = None,
          jobs: int = 1) -> ProjectionProof:
    """Find projections that make ``goal`` 1-inductive (module docstring).

    The step case is asked one action at a time: for action a and the conjuncts it can
    change (those reading a slot a writes), "s satisfies the conjunction and a's guard,
    and a(s) breaks one of them".  The other conjuncts keep their value across a, so
    when every action's query is unsat the conjunction is 1-inductive.  A worklist
    re-asks an action only about projections added since it was last asked (the ones
    asked before stay preserved: the conjunction at s only grows).  Small per-action
    queries stay fast where one query over all actions at once slowed to minutes.

    With ``minimize`` the result keeps the projections the goal needs, by the unsat
    cores of those queries (from the goal outwards), then drops each one whose queries
    still answer unsat without it.  Without ``learn`` the seed is only checked."""
    t0 = time.monotonic()
    res = ProofResult(goal.name, "unknown", "projections", k=1)
    out = ProjectionProof(res)
    st = _Step(spec, goal, reach, check_timeout_s)
    nact = len(spec.actions)
    cores: dict[tuple[int, int], set[int]] = {}
    pending: dict[int, set[int]] = {i: {0} for i in range(nact) if st.affects(i, 0)}

    def add(p: Projection) -> None:
        c = st.add(p)
        for i in range(nact):
            if st.affects(i, c):
                pending.setdefault(i, set()).add(c)

    init_vals = reach.value_of(spec.init_state())
    for p in seed:
        add(p)
    if jobs > 1 and pending:
        for ai, r, got, asked in _first_round(spec, goal, reach, check_timeout_s, list(seed),
                                              pending, jobs, progress):
            st.queries += asked
            if r == "unsat":
                assert isinstance(got, set)
                for c in pending.pop(ai):
                    cores[(ai, c)] = got
        # What is left (a CTI, or no answer) is asked again below, in one process.
    pos = 0
    shown = time.monotonic()
    while pending:
        ai = pos % nact
        pos += 1
        batch = pending.get(ai)
        if not batch:
            continue
        if progress and time.monotonic() - shown > 10:  # a line every ten seconds
            shown = time.monotonic()
            progress(st.queries, len(st.projs), len(pending))
        r, got = st.ask(ai, batch, range(len(st.lits)))
        if r == z3.unsat:
            assert isinstance(got, set)
            for c in batch:
                cores[(ai, c)] = got
            del pending[ai]
            continue
        if r != z3.sat:
            res.detail = (f"a Z3 query ({spec.actions[ai].name}) gave no answer within "
                          f"{check_timeout_s} s ({len(st.projs)} projections)")
            break
        assert isinstance(got, bytes)
        cti: Path = [(-1, got), (ai, apply_action(spec, ai, got))]
        sep = reach.separating(reach.value_of(got)) if learn else None
        if sep is None or len(st.projs) >= max_projections:
            replay(spec, cti, from_init=False)
            res.status, res.path = "cti", cti
            res.failing = [goal.name]
            res.detail = (f"{spec.actions[ai].name} breaks the conjunction from a state that "
                          "satisfies it" if not learn else
                          "the step leaves the explored states from one of them: the "
                          "explored state space is not closed (incomplete?)" if sep is None
                          else f"gave up after {max_projections} projections")
            break
        p = reach.projection(sep)
        if not reach.holds(p, init_vals):
            raise AssertionError("a projection of the explored states excludes init")
        add(p)
        st.local.setdefault(ai, set()).add(len(st.projs))  # it excludes the CTI state
        st.origin[len(st.projs)] = (got, ai)
        out.found += 1
        for other in companions(sep) if companions else ():
            q = reach.projection(other)
            if q not in st.projs:
                add(q)
                out.found += 1
        pos -= 1  # ask the same action again first
    out.queries = st.queries
    if not pending and res.status == "unknown":
        res.status = "proved"
        keep = list(range(1, len(st.lits)))
        if minimize:
            wit: dict[int, tuple[bytes, int]] = {}
            keep = _minimize(st, cores, wit, minimize_progress, minimize_seconds)
            out.witness = {st.projs[c - 1]: w for c, w in wit.items() if c in keep}
        out.used = [st.projs[c - 1] for c in keep]
        res.detail = (f"{out.found} projections found in {out.queries} per-action "
                      f"queries, {len(out.used)} kept" + (
                          f", {len(out.witness)} of them shown needed by a concrete CTI of "
                          "the others" if minimize else ""))
    res.seconds = time.monotonic() - t0
    return out


_FORKED: dict[str, Any] = {}  # what a forked _first_round worker reads


def _round_worker(part: list[int], conn: Any) -> None:
    f = _FORKED
    st = _Step(f["spec"], f["goal"], f["reach"], f["timeout"])
    for p in f["seed"]:
        st.add(p)
    every = range(len(st.lits))
    for ai in part:
        before = st.queries
        r, got = st.ask(ai, f["pending"][ai], every)
        conn.send((ai, str(r), got if r != z3.unknown else None, st.queries - before))
    conn.close()


def _first_round(spec: Spec, goal: Goal, reach: Reach, timeout: float | None,
                 seed: list[Projection], pending: dict[int, set[int]], jobs: int,
                 progress: Callable[[int, int, int], None] | None
                 ) -> list[tuple[int, str, Any, int]]:
    """The first question to every pending action, split over ``jobs`` forked processes
    (each builds its own solver; the queries are independent).  A seeded search that
    needs few new projections spends nearly all its time here."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    _FORKED.update(spec=spec, goal=goal, reach=reach, timeout=timeout, seed=seed,
                   pending=pending)
    ctx = mp.get_context("fork")
    acts = sorted(pending)
    procs, conns = [], []
    for j in range(jobs):
        recv, send = ctx.Pipe(duplex=False)
        pr = ctx.Process(target=_round_worker, args=(acts[j::jobs], send), daemon=True)
        pr.start()
        send.close()
        procs.append(pr)
        conns.append(recv)
    out: list[tuple[int, str, Any, int]] = []
    shown = time.monotonic()
    try:
        while conns:
            for c in wait(conns):
                try:
                    out.append(c.recv())  # type: ignore[union-attr]
                except EOFError:
                    conns.remove(c)
            if progress and time.monotonic() - shown > 10:
                shown = time.monotonic()
                progress(sum(x[3] for x in out), len(seed), len(pending) - len(out))
    finally:
        for pr in procs:
            pr.join(timeout=1)
            if pr.is_alive():
                pr.kill()
        _FORKED.clear()
    return out


def _minimize(st: _Step, cores: dict[tuple[int, int], set[int]],
              witness: dict[int, tuple[bytes, int]],
              progress: Callable[[int, int, int], None] | None = None,
              budget_s: float = 600.0) -> list[int]:
    """The projections the goal needs.  First the closure of the unsat cores from the
    goal outwards.  Then each one gets a witness that it is needed: a concrete CTI of the
    others (``cti_without``), first from the CTI state it was found for (any action), then
    from Z3 re-asking the queries whose cores used it -- if all of those stay unsat
    without it, it is dropped.  The Z3 part stops after ``budget_s``; projections left
    without a witness are kept (``witness`` then lacks them)."""
    by_c: dict[int, set[int]] = {}
    for (_, c), core in cores.items():
        by_c.setdefault(c, set()).update(core)
    keep, frontier = {0}, [0]
    while frontier:
        for d in by_c.get(frontier.pop(), ()):
            if d not in keep:
                keep.add(d)
                frontier.append(d)

    def concrete(p: int) -> tuple[bytes, int] | None:
        rest = sorted(keep - {p})
        cands = [witness[p]] if p in witness else []
        if p in st.origin:
            s0, a0 = st.origin[p]
            cands += [(s0, a0)] + [(s0, ai) for ai in range(len(st.spec.actions)) if ai != a0]
        return next((w for w in cands if st.cti_without(rest, *w)), None)

    for p in sorted(keep - {0}):
        w = concrete(p)
        if w is not None:
            witness[p] = w
    if progress:
        progress(0, len(keep) - 1, len(keep) - 1 - len(witness))
    t0 = time.monotonic()
    for n, p in enumerate(sorted(keep - {0} - set(witness), reverse=True)):
        if time.monotonic() - t0 > budget_s:
            break
        rest = sorted(keep - {p})
        redo: dict[int, set[int]] = {}
        for (ai, c), core in cores.items():
            if c in rest and p in core:
                redo.setdefault(ai, set()).add(c)
        new: dict[tuple[int, int], set[int]] = {}
        first = st.origin.get(p, (b"", -1))[1]
        for ai, batch in sorted(redo.items(), key=lambda x: x[0] != first):
            if time.monotonic() - t0 > budget_s:  # out of time: keep it, unexplained
                break
            r, got = st.ask(ai, batch, rest)
            if r != z3.unsat:
                if isinstance(got, bytes):
                    witness[p] = (got, ai)
                break
            assert isinstance(got, set)
            new.update({(ai, c): got for c in batch})
        else:
            keep.discard(p)
            cores.update(new)
        if progress:
            progress(n + 1, len(keep) - 1, len(redo))
    # A witness found before a later projection was dropped may rely on it: check each
    # again, and ask Z3 for a new one where it does (the queries whose cores used the
    # projection first, then every action); one that has none is not needed after all.
    changed = True
    while changed:
        changed = False
        for p in sorted(keep - {0}):
            witness.pop(p, None)
            w = concrete(p)
            if w is None and time.monotonic() - t0 <= budget_s:
                w = _z3_witness(st, cores, sorted(keep - {p}), p)
                if w is None:
                    keep.discard(p)
                    changed = True
                    continue
            if w is not None and w[1] >= 0:
                witness[p] = w
    for p in list(witness):
        if p not in keep:
            del witness[p]
    return sorted(keep - {0})


def _z3_witness(st: _Step, cores: dict[tuple[int, int], set[int]], rest: list[int],
                p: int) -> tuple[bytes, int] | None:
    """A CTI of the ``rest`` conjuncts (without p), or None when they are inductive."""
    first = {ai for (ai, c), core in cores.items() if p in core}
    for ai in sorted(range(len(st.spec.actions)), key=lambda i: i not in first):
        batch = {c for c in rest if st.affects(ai, c)}
        if not batch:
            continue
        r, got = st.ask(ai, batch, rest)
        if r == z3.sat and isinstance(got, bytes):
            return got, ai
        if r != z3.unsat:
            return b"", -1  # no answer: not shown either way
    return None


def apply_action(spec: Spec, ai: int, s: bytes) -> bytes:
    from model.eval import apply

    return apply(spec.actions[ai], s)


def _reads(e: object) -> set[int]:
    from model.lang import collect_reads

    out: set[int] = set()
    collect_reads(e, out)  # type: ignore[arg-type]
    return out


def _in_domains(spec: Spec, s: bytes) -> bool:
    return all(v.domain.lo <= x <= v.domain.hi for v, x in zip(spec.vars, s, strict=True))


def _domain(spec: Spec, slot: int, x: z3.BitVecRef) -> z3.BoolRef:
    d = spec.vars[slot].domain
    return z3.And(z3.UGE(x, d.lo), z3.ULE(x, d.hi))


def holds_all(spec: Spec, goal: Goal, reach: Reach, projs: Sequence[Projection],
              s: bytes) -> bool:
    """goal /\\ projs /\\ domains at the concrete state s (model/eval.py, no Z3)."""
    from model.eval import value

    if not _in_domains(spec, s):
        return False
    if goal.expr is not None and not value(goal.expr, s):
        return False
    vals = reach.value_of(s)
    return all(reach.holds(p, vals) for p in projs)


def needed_without(spec: Spec, goal: Goal, reach: Reach, projs: Sequence[Projection],
                   drop: Projection, s: bytes, ai: int) -> bool:
    """Is (s, action ai) a CTI of the proof without ``drop``?  That is, s satisfies the
    goal and every other projection, ai is enabled at s, and its successor does not:
    then the other projections alone are not 1-inductive.  Checked with model/eval.py."""
    from model.eval import enabled, value

    rest = [p for p in projs if p != drop]
    a = spec.actions[ai]
    if value(spec.halt, s) or not holds_all(spec, goal, reach, rest, s) or not enabled(a, s):
        return False
    try:
        t = apply_action(spec, ai, s)
    except ValueError:
        return False
    return not holds_all(spec, goal, reach, rest, t)


def to_json(ts: Sequence[Term], projs: Sequence[Projection],
            witness: dict[Projection, tuple[bytes, int]] | None = None,
            views: dict[Projection, tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    """The projections as JSON: term names, value rows, a readable statement, and the
    witness that each is needed (a state as bytes in hex, and the action's index).
    A task view (``views``) is written as its tasks, not its rows (tens of thousands):
    whatever rows the explorer gives it, the induction is what proves the property."""
    out = []
    for p in projs:
        e: dict[str, Any]
        if views and p in views:
            e = {"view": list(views[p]), "explored_rows": len(p.rows),
                 "statement": describe(ts, p, view=views[p])}
        else:
            e = {"terms": [ts[k].name for k in p.terms],
                 # one row a string "v1 v2 ...": a line each in the file
                 "rows": [" ".join(map(str, r)) for r in sorted(p.rows)],
                 "statement": describe(ts, p, limit=12)}
        if witness and p in witness:
            st, ai = witness[p]
            e["needed_witness"] = {"state": st.hex(), "action": ai}
        out.append(e)
    return out


def from_json(ts: Sequence[Term], doc: Any, reach: Reach | None = None,
              views: dict[Projection, tuple[str, ...]] | None = None
              ) -> tuple[list[Projection], dict[Projection, tuple[bytes, int]]]:
    """The inverse of ``to_json``: task views are taken from ``reach`` (and recorded in
    ``views``); ValueError with a one-line reason on a bad document."""
    by_name = {t.name: i for i, t in enumerate(ts)}
    tasks = {n.partition(".")[0] for n in by_name if "." in n}
    if not isinstance(doc, list):
        raise ValueError("'projections' must be a list")
    projs, wit = [], {}
    for n, e in enumerate(doc):
        if isinstance(e, dict) and "view" in e:
            group = e["view"]
            if not isinstance(group, list) or not group or not all(
                    isinstance(x, str) and x in tasks for x in group):
                raise ValueError(f"projection {n + 1}: 'view' must list task names "
                                 f"({', '.join(sorted(tasks))})")
            if reach is None:
                raise ValueError(f"projection {n + 1}: a task view needs the explored states")
            projs.append(task_view(ts, reach, group))
            if views is not None:
                views[projs[-1]] = tuple(group)
            continue
        try:
            terms = tuple(by_name[x] for x in e["terms"])
            rows = frozenset(tuple(int(v) for v in (r.split() if isinstance(r, str) else r))
                             for r in e["rows"])
        except KeyError as err:
            raise ValueError(f"projection {n + 1}: no term or field {err}") from None
        except (TypeError, ValueError):
            raise ValueError(f"projection {n + 1}: a row must be integers") from None
        if not terms or any(len(r) != len(terms) or not all(0 <= v < 256 for v in r)
                            for r in rows):
            raise ValueError(f"projection {n + 1}: each row needs one value 0..255 per term")
        p = Projection(terms, rows)
        projs.append(p)
        w = e.get("needed_witness")
        if isinstance(w, dict):
            try:
                wit[p] = (bytes.fromhex(w["state"]), int(w["action"]))
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"projection {n + 1}: bad needed_witness") from None
    return projs, wit


def projection_expr(ts: Sequence[Term], p: Projection) -> Expr:
    """``p`` in the action language, for the explorer and the monolithic k-induction."""
    return Or(*[And(*[ts[k].expr == v for k, v in zip(p.terms, r, strict=True)])
                for r in sorted(p.rows)])
