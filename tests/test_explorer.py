"""The explorer on small hand-made models whose answers are known by hand."""

from __future__ import annotations

import networkx as nx

from checker.explore import DEADLOCKED, FINISHED, SPINNING, Explorer, Limits
from model.lang import And, Cite, Domain, Spec
from properties.base import DEADLOCK, INVARIANT, Property

CITE = Cite("toy", "toy.c", "toy", "step")


def counters(n: int = 2) -> tuple[Spec, object]:
    """Two tasks each counting 0..n: (n+1)^2 states, 2n(n+1) transitions, depth 2n."""
    s = Spec("counters")
    d = Domain(0, n)
    x = s.var("x", d, 0)
    y = s.var("y", d, 0)
    s.pc_vars = []
    s.task_names = ["A", "B"]
    s.action("inc_x", task=0, actor="U", guard=x < n, effect={x: x + 1}, source=CITE)
    s.action("inc_y", task=1, actor="U", guard=y < n, effect={y: y + 1}, source=CITE)
    return s, And(x == n, y == n)


def test_exact_counts_of_a_grid():
    for n in (1, 2, 5):
        spec, fin = counters(n)
        props = [Property("x_small", INVARIANT, "x <= n", "test", spec.vars[0] <= n),
                 Property("no_deadlock", DEADLOCK, "", "test")]
        r = Explorer(spec, props, fin).run()
        assert r.states == (n + 1) ** 2
        assert r.transitions == 2 * n * (n + 1)
        assert r.depth == 2 * n
        assert r.violations == {}
        assert r.terminal == {FINISHED: 1}
        assert r.layers == [min(k, 2 * n - k) + 1 for k in range(2 * n + 1)]


def test_shortest_violation_is_found_and_is_shortest():
    spec, fin = counters(3)
    x, y = spec.vars
    # violated where x + y == 4 and x == 3: shortest path has 4 steps
    bad = Property("bad", INVARIANT, "not (x == 3 and y == 1)", "test",
                   And(x == 3, y == 1) == 0)
    ex = Explorer(spec, [bad], fin)
    r = ex.run()
    path = ex.path(r.violations["bad"])
    assert len(path) - 1 == 4
    last = path[-1][1]
    assert (last[x.slot], last[y.slot]) == (3, 1)
    # every step of the path is a real transition of the model
    for (_, a), (aid, b) in zip(path, path[1:], strict=False):
        assert (aid, b) in ex.compiled.successors(a)


def two_locks() -> tuple[Spec, object]:
    """A and B take locks in opposite orders: the classic deadlock, 2 steps away."""
    s = Spec("locks")
    b = Domain(0, 2)
    pcs = [s.var("pcA", Domain(0, 3), 0), s.var("pcB", Domain(0, 3), 0)]
    l1, l2 = s.var("l1", b, 0), s.var("l2", b, 0)
    s.pc_vars = pcs
    s.task_names = ["A", "B"]
    order = [(l1, l2), (l2, l1)]
    for t in (0, 1):
        pc = pcs[t]
        first, second = order[t]
        s.action("take_first", task=t, actor="U", guard=And(pc == 0, first == 0),
                 effect={first: t + 1, pc: 1}, source=CITE)
        s.action("take_second", task=t, actor="U", guard=And(pc == 1, second == 0),
                 effect={second: t + 1, pc: 2}, source=CITE)
        s.action("release", task=t, actor="U", guard=pc == 2,
                 effect={first: 0, second: 0, pc: 3}, source=CITE)
    return s, And(pcs[0] == 3, pcs[1] == 3)


def test_deadlock_is_told_apart_from_finishing():
    spec, fin = two_locks()
    ex = Explorer(spec, [Property("no_deadlock", DEADLOCK, "", "test")], fin)
    r = ex.run()
    assert r.terminal[DEADLOCKED] == 1 and r.terminal[FINISHED] == 1
    path = ex.path(r.violations["no_deadlock"])
    assert [spec.actions[a].name for a, _ in path[1:]] == ["take_first", "take_first"]


def test_a_state_with_only_self_loops_is_a_spin():
    s = Spec("spin")
    pc = s.var("pc", Domain(0, 1), 0)
    s.pc_vars = [pc]
    s.task_names = ["A"]
    s.action("go", task=0, actor="U", guard=pc == 0, effect={pc: 1}, source=CITE)
    s.action("spin", task=0, actor="K", guard=pc == 1, effect={}, source=CITE)
    ex = Explorer(s, [Property("no_deadlock", DEADLOCK, "", "test")], pc == 2)
    r = ex.run()
    assert r.terminal == {SPINNING: 1}
    assert len(ex.path(r.violations["no_deadlock"])) == 2


def test_state_limit_makes_the_run_incomplete():
    spec, fin = counters(5)
    r = Explorer(spec, [], fin).run(Limits(max_states=10))
    assert not r.complete and r.stopped_by == "max_states"
    assert 10 < r.states < 36


def test_bfs_layers_match_networkx_distances():
    """Independent check: BFS depth of every state equals its graph distance from init."""
    spec, fin = two_locks()
    ex = Explorer(spec, [], fin)
    ex.run()
    g = nx.DiGraph()
    for s in ex.states:
        for _, t in ex.compiled.successors(s):
            g.add_edge(s, t)
    dist = nx.single_source_shortest_path_length(g, spec.init_state())
    for i, s in enumerate(ex.states):
        assert len(ex.path(i)) - 1 == dist[s]
    assert len(dist) == len(ex.states)


def test_a_store_outside_the_byte_range_is_a_model_error_naming_the_action():
    import pytest

    from checker.explore import ModelError

    s = Spec("overflow")
    x = s.var("x", Domain(0, 255), 250)
    s.pc_vars = []
    s.task_names = ["A"]
    s.action("bump", task=0, actor="U", guard=x > 0, effect={x: x + 10}, source=CITE)
    with pytest.raises(ModelError, match=r"bump .* stores 260 into x"):
        Explorer(s, [], x == 0).run()
