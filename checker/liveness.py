"""Liveness under fairness on the explored state graph: response properties G(P -> F Q).

A violation is a fair infinite path that passes a state where P holds and Q does not, and
never meets Q afterwards.  It is found as a fair strongly connected component (SCC) of the
subgraph of not-Q states that a P-and-not-Q state can reach inside that subgraph.  A state
without successors stands for the infinite stutter in it (a deadlock or a proper end).

Weak fairness: every fairness group (a task's own steps; the completion of one worker's
I/O) that is enabled in every state of a cycle takes a step in that cycle.  For weak
fairness this test on a whole SCC is exact: a group enabled everywhere in an SCC but never
taken inside it is enabled everywhere in every sub-cycle too.
"""

from __future__ import annotations

import sys
import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from checker.compile import compile_expr
from checker.graph import StateGraph
from model.lang import Expr, Spec

DEADLOCK, LIVELOCK, STARVATION = "deadlock", "livelock", "starvation"


@dataclass(frozen=True)
class Fairness:
    """What the checker assumes about infinite runs (printed with every verdict)."""

    tasks: bool = True  # weak fairness per task
    io: bool = True  # every started I/O completes (weak fairness of env.io_complete per worker)

    def describe(self, spec: Spec, signals: int, preemptions: int, cpus: int = 0) -> str:
        parts = []
        if self.tasks:
            parts.append("weak fairness per task (" + ", ".join(spec.task_names) + "): a task "
                         "that can always take a step eventually takes one")
        else:
            parts.append("no fairness for tasks: a task may stop forever")
        parts.append("I/O eventually completes" if self.io else "I/O may never complete")
        if self.tasks and cpus:
            parts.append(f"{cpus} CPU(s), scheduled with strong fairness: a task that could "
                         "get a free CPU, or be preempted, infinitely often eventually is")
        parts.append(f"signals ({signals}) and preemptions ({preemptions}) are possible, never "
                     "forced")
        return "; ".join(parts)


@dataclass(frozen=True)
class Response:
    """One instance G(premise -> F goal), e.g. for one task."""

    label: str
    premise: Expr
    goal: Expr


@dataclass(frozen=True)
class LivenessProperty:
    name: str
    statement: str
    source: str
    instances: tuple[Response, ...]
    kind: str = "liveness"


@dataclass
class Lasso:
    instance: str
    prefix: list[int]  # state indices, from the initial state to the loop start
    cycle: list[int]  # state indices of the loop, starting at prefix[-1]; [] for a stutter
    cycle_actions: list[int]  # action index of each cycle edge (closing edge last)
    prefix_actions: list[int]  # action index of each prefix edge
    kind: str  # deadlock | livelock | starvation


@dataclass
class LivenessResult:
    property: LivenessProperty
    lasso: Lasso | None
    seconds: float = 0.0
    vacuous: bool = False  # the premise never held


@dataclass
class Analysis:
    """Per-state facts every property needs: enabled fairness groups, BFS depth."""

    graph: StateGraph
    groups: list[str]
    action_group: array  # group index per action, -1 for steps no fairness covers
    strong: int = 0  # bitmask of the groups under strong fairness (the others: weak)
    enabled: list[int] = field(default_factory=list)  # bitmask of enabled groups per state
    depth: array = field(default_factory=lambda: array("i"))


def fairness_groups(spec: Spec, fair: Fairness) -> tuple[list[str], array, int]:
    names: list[str] = []
    ag = array("i", [-1] * len(spec.actions))
    index: dict[str, int] = {}
    for a in spec.actions:
        if a.actor in ("K", "U"):
            if not fair.tasks or a.task is None:
                continue
            key = f"task {spec.task_names[a.task]}"
        elif a.name == "sched.switch_in" and fair.tasks and a.task is not None:
            key = f"cpu {spec.task_names[a.task]}"  # a runnable task gets a free CPU
        elif a.name == "sched.switch_out" and fair.tasks and a.task is not None:
            key = f"time slice {spec.task_names[a.task]}"  # a preemptible task is preempted
        elif a.name == "env.io_complete" and fair.io and a.task is not None:
            key = f"io {spec.task_names[a.task]}"
        else:
            continue
        if key not in index:
            index[key] = len(names)
            names.append(key)
        ag[a.index] = index[key]
    # The CPU scheduler is fair in the strong sense: a task that could be put on a free CPU
    # infinitely often gets one, and a time slice ends when the task is in preemptible code
    # infinitely often (not only when it stays there).
    strong = 0
    for i, name in enumerate(names):
        if name.startswith(("time slice ", "cpu ")):
            strong |= 1 << i
    return names, ag, strong


def analyse(spec: Spec, graph: StateGraph, parent: Sequence[int], fair: Fairness) -> Analysis:
    groups, ag, strong = fairness_groups(spec, fair)
    enabled = [0] * graph.n
    offs, acts = graph.offsets, graph.actions
    for i in range(graph.n):
        m = 0
        for k in range(offs[i], offs[i + 1]):
            g = ag[acts[k]]
            if g >= 0:
                m |= 1 << g
        enabled[i] = m
    depth = array("i", [0] * graph.n)
    for i in range(1, graph.n):  # BFS order: a parent comes before its children
        depth[i] = depth[parent[i]] + 1
    return Analysis(graph, groups, ag, strong, enabled, depth)


def sccs(graph: StateGraph, inside: bytearray,
         roots: Sequence[int] | None = None) -> list[list[int]]:
    """Tarjan's algorithm, iterative, on the subgraph of states with inside[i] set."""
    n = graph.n
    offs, tg = graph.offsets, graph.targets
    index = array("i", [-1] * n)
    low = array("i", [0] * n)
    on_stack = bytearray(n)
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in (range(n) if roots is None else roots):
        if not inside[root] or index[root] >= 0:
            continue
        work = [(root, offs[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        while work:
            v, k = work[-1]
            end = offs[v + 1]
            while k < end:
                w = tg[k]
                k += 1
                if not inside[w]:
                    continue
                if index[w] < 0:
                    work[-1] = (v, k)
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work.append((w, offs[w]))
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack[w] = 0
                        comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
    return out


def fair_component(an: Analysis, comp: list[int], member: bytearray) -> bool:
    """Can a run that is fair to every group stay in `comp` forever (and visit all of it)?
    Weak groups: taken in comp or disabled somewhere in it.  Strong groups: taken in comp
    or disabled everywhere in it."""
    g = an.graph
    offs, tg, acts = g.offsets, g.targets, g.actions
    if len(comp) == 1:
        v = comp[0]
        if offs[v] == offs[v + 1]:
            return True  # no successor at all: the run stutters here
        if not any(tg[k] == v for k in range(offs[v], offs[v + 1])):
            return False  # a single state without a self-loop is no cycle
    taken, somewhere = 0, 0
    always = (1 << len(an.groups)) - 1
    for v in comp:
        always &= an.enabled[v]
        somewhere |= an.enabled[v]
        for k in range(offs[v], offs[v + 1]):
            if member[tg[k]]:
                gi = an.action_group[acts[k]]
                if gi >= 0:
                    taken |= 1 << gi
    weak_owed = always & ~an.strong
    strong_owed = somewhere & an.strong
    return ((weak_owed | strong_owed) & ~taken) == 0


def fair_parts(an: Analysis, comp: list[int], member: bytearray) -> list[list[int]]:
    """The parts of an SCC a fair run can stay in forever (Emerson-Lei for strong fairness):
    where a strong group is enabled in comp but never taken, no fair run visits the states
    that enable it infinitely often, so drop them and split what is left again.
    `member` is an all-zero scratch array of the graph's size; it is left all zero."""
    n = an.graph.n
    if len(comp) == 1:
        v = comp[0]
        g = an.graph
        if g.offsets[v] != g.offsets[v + 1] and not any(
                g.targets[k] == v for k in range(g.offsets[v], g.offsets[v + 1])):
            return []  # the common case: a single state on no cycle
    for v in comp:
        member[v] = 1
    try:
        if fair_component(an, comp, member):
            return [comp]
        g = an.graph
        offs, tg, acts = g.offsets, g.targets, g.actions
        taken, somewhere, always = 0, 0, (1 << len(an.groups)) - 1
        for v in comp:
            always &= an.enabled[v]
            somewhere |= an.enabled[v]
            for k in range(offs[v], offs[v + 1]):
                if member[tg[k]] and an.action_group[acts[k]] >= 0:
                    taken |= 1 << an.action_group[acts[k]]
        if always & ~an.strong & ~taken:
            return []  # a weak group is owed everywhere: no part of comp can be fair
        bad = somewhere & an.strong & ~taken
        rest = [v for v in comp if not an.enabled[v] & bad]
    finally:
        for v in comp:
            member[v] = 0
    if not bad or not rest:
        return []
    inside = bytearray(n)
    for v in rest:
        inside[v] = 1
    out: list[list[int]] = []
    for sub in sccs(an.graph, inside, rest):
        out += fair_parts(an, sub, member)
    return out


Path = tuple[list[int], list[int]]


def _bfs_path(an: Analysis, src: int, ok: Callable[[int], bool], allowed: bytearray,
              edge_ok: Callable[[int, int, int], bool] | None = None) -> Path:
    """Shortest path inside `allowed` from src to a state where ok(state) holds, or (when
    edge_ok is given) ending with an edge (v, action, w) that edge_ok accepts."""
    g = an.graph
    offs, tg, acts = g.offsets, g.targets, g.actions
    prev: dict[int, tuple[int, int]] = {src: (-1, -1)}
    q = deque([src])
    if edge_ok is None and ok(src):
        return [src], []
    while q:
        v = q.popleft()
        for k in range(offs[v], offs[v + 1]):
            w, a = tg[k], acts[k]
            if not allowed[w]:
                continue
            if edge_ok is not None and edge_ok(v, a, w):
                states, actions = _unwind(prev, v)
                return states + [w], actions + [a]
            if w in prev:
                continue
            prev[w] = (v, a)
            if edge_ok is None and ok(w):
                return _unwind(prev, w)
            q.append(w)
    raise AssertionError("no path inside a strongly connected component")


def _unwind(prev: dict[int, tuple[int, int]], w: int) -> tuple[list[int], list[int]]:
    states, actions = [w], []
    while prev[w][0] >= 0:
        v, a = prev[w]
        states.append(v)
        actions.append(a)
        w = v
    states.reverse()
    actions.reverse()
    return states, actions


def fair_cycle(an: Analysis, comp: list[int], member: bytearray, start: int
               ) -> tuple[list[int], list[int]]:
    """A cycle through `start` inside the component on which every fairness group that is
    enabled everywhere is taken (and others are disabled somewhere): states and actions."""
    offs = an.graph.offsets
    if offs[start] == offs[start + 1]:
        return [], []  # stutter in a state without successors
    cur, states, actions = start, [start], []
    always, somewhere = (1 << len(an.groups)) - 1, 0
    for v in comp:
        always &= an.enabled[v]
        somewhere |= an.enabled[v]
    must_take = always | (somewhere & an.strong)
    for gi in range(len(an.groups)):
        if must_take >> gi & 1:
            s, a = _bfs_path(an, cur, lambda x: False, member,
                             lambda v, act, w, gi=gi: an.action_group[act] == gi)
        elif any(not (an.enabled[v] >> gi & 1) for v in comp):
            s, a = _bfs_path(an, cur, lambda x, gi=gi: not (an.enabled[x] >> gi & 1), member)
        else:
            continue
        states += s[1:]
        actions += a
        cur = states[-1]
    # back to the start; at least one edge so that the cycle is a cycle
    if cur == start and actions:
        return states, actions
    s, a = _bfs_path(an, cur, lambda x: False, member, lambda v, act, w: w == start)
    return states + s[1:], actions + a


def check_response(an: Analysis, spec: Spec, inst: Response, states: Sequence[bytes],
                   parent: Sequence[int], via: Sequence[int],
                   progress: Callable[[bytes], bool]) -> Lasso | None:
    n = an.graph.n
    prem, goal = compile_expr(inst.premise), compile_expr(inst.goal)
    halt = compile_expr(spec.halt)
    # A halted state (umcg_die, a user-space abort) ends the process: a safety property has
    # already failed there, and no future is owed to anyone.
    notq = bytearray(0 if goal(s) or halt(s) else 1 for s in states)
    bad_roots = [i for i in range(n) if notq[i] and prem(states[i])]
    if not bad_roots:
        return None
    fair_states = bytearray(n)
    fair_comps: dict[int, list[int]] = {}
    scratch = bytearray(n)
    for comp in sccs(an.graph, notq):
        for part in fair_parts(an, comp, scratch):
            for v in part:
                fair_states[v] = 1
                fair_comps[v] = part
    if not any(fair_states):
        return None
    # distance (inside not-Q) from every state to a fair component: reverse BFS
    g = an.graph
    preds: dict[int, list[tuple[int, int]]] = {}
    for v in range(n):
        if notq[v]:
            for k in range(g.offsets[v], g.offsets[v + 1]):
                w = g.targets[k]
                if notq[w]:
                    preds.setdefault(w, []).append((v, g.actions[k]))
    dist = array("i", [-1] * n)
    nxt: dict[int, tuple[int, int]] = {}
    q = deque()
    for v in range(n):
        if fair_states[v]:
            dist[v] = 0
            q.append(v)
    while q:
        w = q.popleft()
        for v, a in preds.get(w, ()):
            if dist[v] < 0:
                dist[v] = dist[w] + 1
                nxt[v] = (w, a)
                q.append(v)
    cands = [r for r in bad_roots if dist[r] >= 0]
    if not cands:
        return None
    root = min(cands, key=lambda r: (an.depth[r] + dist[r], r))
    prefix = _path_from_init(root, parent)
    prefix_actions = [via[i] for i in prefix[1:]]
    cur = root
    while dist[cur] > 0:
        w, a = nxt[cur]
        prefix.append(w)
        prefix_actions.append(a)
        cur = w
    comp = fair_comps[cur]
    member = bytearray(n)
    for v in comp:
        member[v] = 1
    cyc, cyc_actions = fair_cycle(an, comp, member, cur)
    if not cyc_actions:
        kind = DEADLOCK
    elif any(progress(states[v]) for v in cyc):
        kind = STARVATION
    else:
        kind = LIVELOCK
    return Lasso(inst.label, prefix, cyc, cyc_actions, prefix_actions, kind)


def _path_from_init(i: int, parent: Sequence[int]) -> list[int]:
    out = []
    while i >= 0:
        out.append(i)
        i = parent[i]
    out.reverse()
    return out


def check_all(spec: Spec, graph: StateGraph, states: Sequence[bytes], parent: Sequence[int],
              via: Sequence[int], props: list[LivenessProperty], fair: Fairness,
              progress: Expr, verbose: bool = False) -> list[LivenessResult]:
    t0 = time.monotonic()
    an = analyse(spec, graph, parent, fair)
    prog = compile_expr(progress)
    out = []
    for p in props:
        t1 = time.monotonic()
        lasso = None
        any_premise = False
        for inst in p.instances:
            if not any_premise:
                f = compile_expr(inst.premise)
                any_premise = any(f(s) for s in states)
            lasso = check_response(an, spec, inst, states, parent, via, lambda s: bool(prog(s)))
            if lasso is not None:
                break
        out.append(LivenessResult(p, lasso, time.monotonic() - t1, vacuous=not any_premise))
        if verbose:
            print(f"  liveness: {p.name} {'violated' if lasso else 'holds'} "
                  f"({time.monotonic() - t1:.1f} s)", file=sys.stderr, flush=True)
    if verbose:
        print(f"  liveness: {len(props)} properties in {time.monotonic() - t0:.1f} s",
              file=sys.stderr, flush=True)
    return out
