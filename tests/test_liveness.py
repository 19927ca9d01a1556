"""Liveness under fairness: hand-made models with known answers, and v0.2 verdicts that do not
depend on the order in which the explorer meets states."""

from __future__ import annotations

import pytest

from checker.config import load
from checker.explore import Explorer
from checker.graph import state_graph
from checker.liveness import (
    DEADLOCK,
    LIVELOCK,
    STARVATION,
    Fairness,
    LivenessProperty,
    Response,
    check_all,
)
from checker.run import check
from model.lang import TRUE, And, Cite, Domain, Spec

CITE = Cite("toy", "toy.c", "toy", "step")


NO_PROGRESS = TRUE == 0


FAIR = Fairness()


def run(spec: Spec, props, fair=FAIR, progress=NO_PROGRESS):
    ex = Explorer(spec, [], TRUE == 0)
    ex.run()
    g = state_graph(ex)
    res = check_all(spec, g, ex.states, ex.parent, ex.via, props, fair, progress)
    return ex, {r.property.name: r for r in res}


def prop(name, premise, goal):
    return LivenessProperty(name, name, "test", (Response("x", premise, goal),))


def spinner_and_finisher():
    """A spins on a self-loop forever; B can always take one step that reaches the goal."""
    s = Spec("spin")
    a = s.var("a", Domain(0, 1), 0)
    b = s.var("b", Domain(0, 1), 0)
    s.pc_vars = [a, b]
    s.task_names = ["A", "B"]
    s.action("spin", task=0, actor="K", guard=a == 0, effect={}, source=CITE)
    s.action("finish", task=1, actor="U", guard=b == 0, effect={b: 1}, source=CITE)
    return s, b


def test_an_unfair_cycle_is_not_a_violation():
    spec, b = spinner_and_finisher()
    _, res = run(spec, [prop("B_finishes", TRUE, b == 1)])
    # B is enabled in the spin state and never taken there: the spin is not a fair cycle.
    assert res["B_finishes"].lasso is None


def test_without_task_fairness_the_same_cycle_is_a_violation():
    spec, b = spinner_and_finisher()
    _, res = run(spec, [prop("B_finishes", TRUE, b == 1)], Fairness(tasks=False))
    lasso = res["B_finishes"].lasso
    assert lasso is not None and lasso.kind == LIVELOCK
    assert len(lasso.prefix) == 1 and len(lasso.cycle_actions) == 1


def chain_then_ring(k: int, ring: int):
    """A walks k steps down a chain, then round a ring of `ring` states forever; B idles in a
    self-loop (so B is fair by taking steps)."""
    s = Spec("ring")
    x = s.var("x", Domain(0, k + ring), 0)
    s.pc_vars = [x]
    s.task_names = ["A"]
    for i in range(k + ring - 1):
        s.action("next", task=0, actor="U", guard=x == i, effect={x: i + 1}, source=CITE)
    s.action("wrap", task=0, actor="U", guard=x == k + ring - 1, effect={x: k}, source=CITE)
    return s, x


def test_a_fair_cycle_is_found_with_the_shortest_prefix():
    spec, x = chain_then_ring(5, 3)
    # premise at step 2, goal never: the lasso's prefix is the 5 steps to the ring
    ex, res = run(spec, [prop("never", x == 2, x == 99)])
    lasso = res["never"].lasso
    assert lasso is not None and lasso.kind == LIVELOCK
    assert len(lasso.prefix) - 1 == 5
    assert len(lasso.cycle_actions) == 3
    assert lasso.cycle[0] == lasso.cycle[-1] == lasso.prefix[-1]
    # every step of prefix and cycle is a transition of the model
    path = lasso.prefix + lasso.cycle[1:]
    acts = lasso.prefix_actions + lasso.cycle_actions
    for (u, v), a in zip(zip(path, path[1:], strict=False), acts, strict=True):
        assert (a, ex.states[v]) in ex.compiled.successors(ex.states[u])


def test_a_goal_on_the_ring_satisfies_the_property():
    spec, x = chain_then_ring(5, 3)
    _, res = run(spec, [prop("reaches_6", x == 2, x == 6)])
    assert res["reaches_6"].lasso is None and not res["reaches_6"].vacuous


def test_vacuous_premise_is_reported():
    spec, x = chain_then_ring(2, 2)
    _, res = run(spec, [prop("never_premise", x == 50, x == 0)])
    assert res["never_premise"].lasso is None and res["never_premise"].vacuous


def io_model():
    """W waits for an I/O the environment may complete; nothing else happens."""
    s = Spec("io")
    pc = s.var("pc", Domain(0, 2), 0)
    io = s.var("io", Domain(0, 1), 0)
    s.pc_vars = [pc]
    s.task_names = ["W"]
    s.action("start", task=0, actor="U", guard=pc == 0, effect={pc: 1}, source=CITE)
    s.action("finish", task=0, actor="K", guard=And(pc == 1, io == 1), effect={pc: 2},
             source=CITE)
    s.action("env.io_complete", task=0, actor="E", guard=And(pc == 1, io == 0),
             effect={io: 1}, source=CITE)
    s.action("idle", task=0, actor="E", guard=pc == 1, effect={}, source=CITE)  # not fair
    return s, pc


def test_io_fairness_is_what_makes_the_io_complete():
    spec, pc = io_model()
    p = prop("returns", pc == 1, pc == 2)
    assert run(spec, [p])[1]["returns"].lasso is None
    lasso = run(spec, [p], Fairness(io=False))[1]["returns"].lasso
    assert lasso is not None and lasso.kind == LIVELOCK


def test_a_deadlock_is_a_stutter_lasso():
    s = Spec("stop")
    pc = s.var("pc", Domain(0, 1), 0)
    s.pc_vars = [pc]
    s.task_names = ["A"]
    s.action("go", task=0, actor="U", guard=pc == 0, effect={pc: 1}, source=CITE)
    _, res = run(s, [prop("never", TRUE, pc == 5)])
    lasso = res["never"].lasso
    assert lasso.kind == DEADLOCK and lasso.cycle_actions == [] and len(lasso.prefix) == 2


def test_starvation_is_told_apart_from_livelock():
    # A makes progress (passes x == 0) forever while B never reaches its goal.
    s = Spec("starve")
    x = s.var("x", Domain(0, 1), 0)
    b = s.var("b", Domain(0, 1), 0)
    s.pc_vars = [x]
    s.task_names = ["A", "B"]
    s.action("tick", task=0, actor="U", guard=x == 0, effect={x: 1}, source=CITE)
    s.action("tock", task=0, actor="U", guard=x == 1, effect={x: 0}, source=CITE)
    s.action("try", task=1, actor="U", guard=x == 1, effect={}, source=CITE)
    _, res = run(s, [prop("b", TRUE, b == 1)], progress=x == 0)
    assert res["b"].lasso.kind == STARVATION


# ------------------------------------------------------------------------------- v0.2


def reversed_actions(o):
    """Rebuild the same model with its actions in the opposite order."""
    spec = o.model.spec
    spec.actions.reverse()
    for i, a in enumerate(spec.actions):
        a.index = i
    return spec


@pytest.mark.parametrize("name", ["two-servers"])
def test_v0_2_verdicts_do_not_depend_on_exploration_order(name):
    cfg = load(f"configs/{name}.toml")
    a = check(cfg)
    b_model_outcome = check(cfg, liveness=False)
    spec = reversed_actions(b_model_outcome)
    ex = Explorer(spec, [], b_model_outcome.model.finished)
    ex.run()
    from properties.v0_2_liveness import liveness_properties, progress

    res = check_all(spec, state_graph(ex), ex.states, ex.parent, ex.via,
                    liveness_properties(b_model_outcome.model), Fairness(),
                    progress(b_model_outcome.model))
    for r in res:
        la = a.liveness[r.property.name].lasso
        lb = r.lasso
        assert (la is None) == (lb is None), r.property.name
        if la is not None:
            assert len(la.prefix) == len(lb.prefix)  # shortest prefix: order-independent
            assert la.kind == lb.kind


def test_v0_2_lasso_itf_marks_the_loop(tmp_path):
    o = check(load("configs/signal.toml"))
    p = next(p for p in o.props if p.name == "no_kernel_spin")
    doc = o.itf(p)
    lasso = o.lasso(p)
    assert doc["loop"] == len(lasso.prefix) - 1
    assert len(doc["states"]) == len(lasso.prefix) + len(lasso.cycle_actions) - 1
    assert doc["#meta"]["lasso"] == "livelock" and "fairness" in doc["#meta"]
    # the dropped last state equals the loop's first state
    path = o.path(p)
    assert path[-1][1] == path[doc["loop"]][1]


def test_strong_fairness_of_the_cpu_scheduler():
    """A loops 0 -> 1 -> 0; in state 1 a preemption of A ("sched.switch_out") would let B
    reach its goal.  The preemption is enabled infinitely often but not continuously: only
    strong fairness forces it."""
    s = Spec("slice")
    x = s.var("x", Domain(0, 1), 0)
    b = s.var("b", Domain(0, 1), 0)
    s.pc_vars = [x]
    s.task_names = ["A", "B"]
    s.action("up", task=0, actor="U", guard=And(x == 0, b == 0), effect={x: 1}, source=CITE)
    s.action("down", task=0, actor="U", guard=And(x == 1, b == 0), effect={x: 0}, source=CITE)
    s.action("sched.switch_out", task=0, actor="E", guard=And(x == 1, b == 0),
             effect={b: 1}, source=CITE)
    p = prop("b_done", TRUE, b == 1)
    assert run(s, [p])[1]["b_done"].lasso is None
    lasso = run(s, [p], Fairness(tasks=False))[1]["b_done"].lasso
    assert lasso is not None and lasso.kind == LIVELOCK


def test_one_cpu_makes_the_do_wake_loop_spin_a_soft_lockup():
    o = check(load("configs/one-cpu.toml"))
    p = next(p for p in o.props if p.name == "no_kernel_spin")
    lasso = o.lasso(p)
    assert lasso is not None and lasso.kind == LIVELOCK
    names = [o.model.spec.actions[a].name for a in lasso.cycle_actions]
    assert "umcg_do_wake_loop.ttwu_failed_spin" in names
    # the server that the spinning worker waits for is runnable but never gets the CPU
    last = o.explorer.states[lasso.cycle[0]]
    s0_oncpu = o.model.v["oncpu"][0]
    assert last[s0_oncpu.slot] == 0 and last[o.model.g["free_cpus"].slot] == 0


def test_two_cpus_let_the_server_run():
    from checker.config import parse

    raw = {"servers": 1, "workers": 1, "workload": {"ops": [["block", "yield"]]},
           "environment": {"cpus": 2}}
    o = check(parse(raw, "two-cpu"))
    assert o.verdict == "ok"
