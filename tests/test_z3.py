"""The Z3 engine against the explorer: same reachable sets, same shortest violations,
traces that replay, CTIs that are not violations, stable race answers."""

from __future__ import annotations

import pytest

from checker.cli import main
from checker.config import load
from checker.explore import Explorer
from checker.run import build_model
from checker.z3enc import Encoder
from checker.z3engine import (
    Goal,
    Operation,
    ReplayError,
    bmc,
    expr_goal,
    goals_of,
    k_induction,
    operations,
    race,
    race_exhaustive,
    reachable_within,
    replay,
)
from model.lang import And, Cite, Domain, Spec
from model.v0_2 import Params, build
from properties.base import DEADLOCK, INVARIANT, Property
from properties.v0_2 import properties

CITE = Cite("toy", "toy.c", "toy", "step")


def counters(n: int = 3) -> tuple[Spec, object]:
    s = Spec("counters")
    d = Domain(0, n)
    x = s.var("x", d, 0)
    y = s.var("y", d, 0)
    s.task_names = ["A", "B"]
    s.action("inc_x", task=0, actor="U", guard=x < n, effect={x: x + 1}, source=CITE)
    s.action("inc_y", task=1, actor="U", guard=y < n, effect={y: y + 1}, source=CITE)
    return s, And(x == n, y == n)


def two_locks() -> tuple[Spec, object]:
    """A and B take two locks in opposite orders: a deadlock 2 steps away."""
    s = Spec("locks")
    pa = s.var("pa", Domain(0, 2), 0)
    pb = s.var("pb", Domain(0, 2), 0)
    l1 = s.var("l1", Domain(0, 2), 0)
    l2 = s.var("l2", Domain(0, 2), 0)
    s.task_names = ["A", "B"]
    s.action("a.take1", task=0, actor="U", guard=And(pa == 0, l1 == 0), effect={l1: 1, pa: 1},
             source=CITE)
    s.action("a.take2", task=0, actor="U", guard=And(pa == 1, l2 == 0), effect={l2: 1, pa: 2},
             source=CITE)
    s.action("b.take2", task=1, actor="U", guard=And(pb == 0, l2 == 0), effect={l2: 2, pb: 1},
             source=CITE)
    s.action("b.take1", task=1, actor="U", guard=And(pb == 1, l1 == 0), effect={l1: 2, pb: 2},
             source=CITE)
    return s, And(pa == 2, pb == 2)


def explored_within(spec: Spec, props: list[Property], fin, k: int) -> set[bytes]:
    ex = Explorer(spec, props, fin)
    r = ex.run()
    return set(ex.states[:sum(r.layers[:k + 1])])


# --------------------------------------------------------------------------- reachable sets


@pytest.mark.parametrize("k", [0, 1, 2, 4, 6])
def test_bmc_enumeration_equals_bfs_layers_on_a_toy(k):
    spec, fin = counters(3)
    assert reachable_within(spec, k) == explored_within(spec, [], fin, k)


def test_bmc_enumeration_equals_bfs_layers_on_small_v0_2():
    m, props = build_model(load("configs/small.toml"))
    ex = Explorer(m.spec, props, m.finished)
    r = ex.run()
    for k in (3, 8):
        want = set(ex.states[:sum(r.layers[:k + 1])])
        assert reachable_within(m.spec, k) == want  # the same states, not only as many


# --------------------------------------------------------------------------- shortest violations


def test_shortest_violation_on_a_toy_matches_bfs():
    spec, fin = counters(3)
    x, y = spec.vars
    bad = Property("bad", INVARIANT, "", "test", And(x == 3, y == 1) == 0)
    stuck = Property("no_deadlock", DEADLOCK, "", "test")
    ex = Explorer(spec, [bad, stuck], fin)
    r = ex.run()
    res = bmc(spec, goals_of(Encoder(spec), [bad], fin), 8)
    assert len(res.violations["bad"]) - 1 == len(ex.path(r.violations["bad"])) - 1 == 4
    assert res.complete


def test_deadlock_found_at_the_bfs_length():
    spec, fin = two_locks()
    dl = Property("no_deadlock", DEADLOCK, "", "test")
    ex = Explorer(spec, [dl], fin)
    r = ex.run()
    res = bmc(spec, goals_of(Encoder(spec), [dl], fin), 6)
    path = res.violations["no_deadlock"]
    assert len(path) - 1 == len(ex.path(r.violations["no_deadlock"])) - 1 == 2
    replay(spec, path)  # e.g. a.take1, b.take2 (or one task takes both and the other starves)


def plant_forgotten_server_tid(m) -> None:
    """The server 'forgets' W.server_tid = self: W runs RUNNING without a server (INV-2)."""
    slots = {v.slot for v in m.v["server_tid"]}
    for a in m.spec.actions:
        if a.name == "server.set_worker_server_tid":
            a.effect = [(t, e) for t, e in a.effect if t.slot not in slots]


def test_bmc_shortest_violation_equals_bfs_on_a_planted_v0_2_bug():
    m = build(Params(servers=1, workers=1, ops=(("block", "yield"),)))
    plant_forgotten_server_tid(m)
    props = [p for p in properties(m) if p.kind == INVARIANT]
    ex = Explorer(m.spec, props, m.finished)
    r = ex.run()
    assert r.violations, "the planted bug must be visible to the explorer"
    bfs = {n: len(ex.path(i)) - 1 for n, i in r.violations.items()}
    chosen = [p for p in props if p.name in bfs]
    res = bmc(m.spec, goals_of(Encoder(m.spec), chosen, None), max(bfs.values()))
    assert {n: len(p) - 1 for n, p in res.violations.items()} == bfs
    for path in res.violations.values():
        replay(m.spec, path)


def test_no_violation_within_the_bound_on_small():
    m, props = build_model(load("configs/small.toml"))
    inv = [p for p in props if p.kind == INVARIANT]
    res = bmc(m.spec, goals_of(Encoder(m.spec), inv, None), 8)
    assert res.violations == {} and res.depth == 8 and not res.complete


def test_replay_rejects_a_forged_step():
    spec, fin = counters(2)
    bad = Property("bad", INVARIANT, "", "test", spec.vars[0] != 2)
    path = bmc(spec, goals_of(Encoder(spec), [bad], fin), 4).violations["bad"]
    replay(spec, path)
    forged = list(path)
    forged[1] = (1 - forged[1][0], forged[1][1])  # the other action, same next state
    with pytest.raises(ReplayError):
        replay(spec, forged)


# --------------------------------------------------------------------------- induction


def lockstep() -> Spec:
    """x and y count up together, but in two steps; y <= 3 needs `y <= x <= y + 1`."""
    s = Spec("lockstep")
    x = s.var("x", Domain(0, 7), 0)
    y = s.var("y", Domain(0, 7), 0)
    s.task_names = ["A"]
    s.action("inc_x", task=0, actor="U", guard=And(x == y, x < 3), effect={x: x + 1},
             source=CITE)
    s.action("inc_y", task=0, actor="U", guard=x != y, effect={y: y + 1}, source=CITE)
    return s


def test_induction_needs_the_strengthening_and_reports_a_cti_without_it():
    spec = lockstep()
    x, y = spec.vars
    enc = Encoder(spec)
    goal = expr_goal(enc, "y_small", y <= 3)
    weak = k_induction(spec, goal, max_k=1)
    assert weak.status == "cti" and weak.failing == ["y_small"]  # not "violated"
    replay(spec, weak.path, from_init=False)
    strong = k_induction(spec, goal, [expr_goal(enc, "x_le_3", And(x <= 3, y <= x))],
                         max_k=1)
    assert strong.status == "proved" and strong.k == 1


def test_a_false_strengthening_is_reported_not_assumed():
    spec = lockstep()
    x, y = spec.vars
    enc = Encoder(spec)
    r = k_induction(spec, expr_goal(enc, "y_small", y <= 3),
                    [expr_goal(enc, "wrong", x == y)], max_k=2)
    assert r.status == "strengthening-fails" and r.failing == ["wrong"]
    replay(spec, r.path)


def test_a_real_violation_is_a_violation_not_a_cti():
    spec = lockstep()
    y = spec.vars[1]
    r = k_induction(spec, expr_goal(Encoder(spec), "y_tiny", y <= 1), max_k=5)
    assert r.status == "violated" and len(r.path) - 1 == 4


def test_inv9_is_proved_on_default_v0_2_by_induction_and_by_spacer():
    from checker.z3engine import spacer

    m, props = build_model(load("configs/default.toml"))
    g = goals_of(Encoder(m.spec), [p for p in props if p.name == "INV-9"], None)[0]
    assert k_induction(m.spec, g, max_k=1).status == "proved"
    assert spacer(m.spec, g, timeout_s=120).status == "proved"


def test_induction_on_default_v0_2_gives_ctis_not_violations():
    m, props = build_model(load("configs/default.toml"))
    enc = Encoder(m.spec)
    g = goals_of(enc, [p for p in props if p.name == "INV-12"], None)[0]
    r = k_induction(m.spec, g, max_k=1)
    assert r.status == "cti"
    replay(m.spec, r.path, from_init=False)


# --------------------------------------------------------------------------- races


def two_step_ops() -> tuple[Spec, Operation, Operation]:
    s = Spec("ops")
    pa = s.var("pa", Domain(0, 2), 0)
    pb = s.var("pb", Domain(0, 1), 0)
    s.task_names = ["A", "B"]
    a1 = s.action("a.first", task=0, actor="U", guard=pa == 0, effect={pa: 1}, source=CITE)
    a2 = s.action("a.second", task=0, actor="U", guard=pa == 1, effect={pa: 2}, source=CITE)
    b = s.action("b.only", task=1, actor="U", guard=pb == 0, effect={pb: 1}, source=CITE)
    return (s, Operation("A.op", 0, frozenset({a1.index, a2.index})),
            Operation("B.op", 1, frozenset({b.index})))


def test_race_finds_the_interleaving_and_is_stable():
    spec, a, b = two_step_ops()
    answers = [race(spec, a, b, 5) for _ in range(2)]
    for r in answers:
        assert r.found and r.depth == 3 and r.inside == "B.op inside A.op"
        assert [spec.actions[x].name for x, _ in r.path[1:]] == ["a.first", "b.only",
                                                                "a.second"]
    assert answers[0].path == answers[1].path


def test_race_says_no_when_one_op_is_a_single_step():
    spec, a, b = two_step_ops()
    r = race(spec, b, Operation("A.second", 0, frozenset({1})), 6)
    assert not r.found and r.depth == 6


def test_race_on_v0_2_small_server_vs_block():
    m, props = build_model(load("configs/small.toml"))
    ops = operations(m)
    assert {"W0.block", "W0.wake_detect", "S0.run_worker", "S0.go_idle"} <= set(ops)
    r1 = race(m.spec, ops["S0.run_worker"], ops["W0.block"], 14)
    r2 = race(m.spec, ops["S0.run_worker"], ops["W0.block"], 14)
    assert (r1.found, r1.depth) == (r2.found, r2.depth)
    if r1.found:
        replay(m.spec, r1.path)


@pytest.mark.parametrize("pair", [("S0.take_idle", "W0.wake_detect"),
                                  ("S0.go_idle", "W0.register"),
                                  ("S0.swap", "W0.wake_detect")])
def test_race_z3_and_exhaustive_search_agree_on_small(pair):
    m, _ = build_model(load("configs/small.toml"))
    ops = operations(m)
    a, b = ops[pair[0]], ops[pair[1]]
    full = race_exhaustive(m.spec, a, b)
    assert full.found
    z = race(m.spec, a, b, full.depth)
    assert z.found and z.depth == full.depth  # the same shortest length from both engines
    assert not race(m.spec, a, b, full.depth - 1).found


def test_race_exhaustive_no_is_complete():
    spec, a, b = two_step_ops()
    r = race_exhaustive(spec, b, Operation("A.second", 0, frozenset({1})))
    assert not r.found and r.complete


# --------------------------------------------------------------------------- CLI


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["bmc", "configs/small.toml", "--depth", "4", "--quiet"]) == 3
    assert main(["bmc", "configs/small.toml", "--depth", "4", "--property", "nope"]) == 2
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--quiet"]) == 3
    out = capsys.readouterr().out
    assert "CTI (not a bug)" in out and "VIOLATED" not in out
    assert main(["prove", "configs/small.toml", "--strengthen", "nope"]) == 2
    assert main(["race", "configs/small.toml", "--between", "W0.block"]) == 2
    assert main(["race", "configs/small.toml", "--between", "W0.block,X.y"]) == 2
    assert main(["operations", "configs/small.toml"]) == 0
    assert "W0.wake_detect" in capsys.readouterr().out


def test_cli_prove_json_and_itf(tmp_path, capsys):
    import json

    code = main(["prove", "configs/small.toml", "--property", "INV-2", "--json", "--quiet",
                 "--trace-dir", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    entry = doc["properties"][0]
    assert code == 3 and entry["status"] == "cti" and entry["failing"]
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".cti.itf.json")


def test_goal_kinds_not_encoded_are_skipped():
    spec, fin = counters(1)
    live = Property("live", "liveness", "", "test")
    assert goals_of(Encoder(spec), [live], fin) == []
    assert isinstance(Goal("g", lambda s: s[0] == 0), Goal)
