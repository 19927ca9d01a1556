"""Symmetry, partial-order and dead-variable reductions (checker/reductions.py, docs/reductions.md).

Reductions never change a verdict (design.md): every invariant's holds/violated and the
deadlock verdict agree with the unreduced golden manifest; reduced state counts are golden too;
a counterexample found under reduction replays, step by step, on the unreduced model.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
from contextlib import redirect_stdout

import pytest

from checker import cli
from checker.config import ConfigError, load, parse
from checker.deadvars import dead_slots, reset_function
from checker.explore import Explorer, Limits
from checker.manifest import HERE, MANIFEST
from checker.reductions import NAMES, Reducer, ReductionError
from checker.reductions import parse as parse_reduce
from checker.run import build_model, check
from checker.symmetry import of_model
from model.eval import apply, enabled, value
from model.lang import BOOL, Domain, Spec
from model.v0_2 import Params, build
from properties.base import DEADLOCK, INVARIANT
from properties.v0_2 import properties

with open(MANIFEST) as f:
    GOLDEN = json.load(f)

ALL = frozenset(NAMES)


def cfg_path(name: str) -> str:
    return os.path.join(HERE, "configs", f"{name}.toml")


# ------------------------------------------------------------------------- the option


def test_reduce_lists_parse_and_bad_ones_are_named():
    assert parse_reduce("none") == frozenset()
    assert parse_reduce("all") == ALL
    assert parse_reduce("por, dead") == {"por", "dead"}
    assert parse_reduce(["symmetry"]) == {"symmetry"}
    with pytest.raises(ReductionError, match="'sym'"):
        parse_reduce("sym")
    with pytest.raises(ReductionError, match="all"):
        parse_reduce("all,por")
    assert parse({"check": {"reduce": ["por"]}}, "x").reduce == {"por"}
    assert parse({}, "x").reduce == frozenset()  # default: none
    with pytest.raises(ConfigError, match="check.reduce"):
        parse({"check": {"reduce": ["fast"]}}, "x")
    with pytest.raises(ConfigError, match="check.reduce"):
        parse({"check": {"reduce": 3}}, "x")


def test_cli_bad_reduce_is_exit_2_and_json_names_the_reductions(capsys):
    assert cli.main(["check", cfg_path("small"), "--reduce", "fast", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--reduce has 'fast'" in err and "Traceback" not in err
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = cli.main(["check", cfg_path("small"), "--reduce", "all", "--json", "--quiet",
                       "--no-liveness"])
    doc = json.loads(buf.getvalue())
    assert rc == 0 and doc["reductions"] == ["symmetry", "por", "dead"]
    assert doc["stats"]["states"] == GOLDEN["small"]["reduced"]["all"]
    buf = io.StringIO()
    with redirect_stdout(buf):
        cli.main(["check", cfg_path("small"), "--json", "--quiet", "--no-liveness"])
    doc = json.loads(buf.getvalue())
    assert doc["reductions"] == [] and doc["stats"]["states"] == GOLDEN["small"]["states"]


# ------------------------------------------------------------------------- symmetry

SYMMETRIC = [
    {"servers": 2, "workers": 1, "workload": {"ops": [["block"]]}},
    {"servers": 1, "workers": 2, "workload": {"ops": [["swap", "wake"], ["swap", "wake"]]},
     "environment": {"preemptions": 1, "signals": 1}},
    {"servers": 2, "workers": 2, "workload": {"ops": [["block", "yield"], ["block", "yield"]]},
     "environment": {"cpus": 2}},
]


@pytest.mark.parametrize("raw,perms", list(zip(SYMMETRIC, (2, 2, 4), strict=True)),
                         ids=["2Sx1W", "1Sx2W-swap-wake", "2Sx2W-cpus"])
def test_every_permutation_commutes_with_successors_and_properties(raw, perms):
    m, props = build_model(parse(raw, "sym"))
    sym = of_model(m)
    assert len(sym.perms) == perms
    ex = Explorer(m.spec, props, m.finished)
    ex.run(Limits(max_states=6000))
    succ = ex.compiled.successors
    invs = [p for p in props if p.kind == INVARIANT]
    for s in random.Random(7).sample(ex.states, 400):
        for g in sym.apply:
            gs = g(s)
            assert sorted(g(t) for _, t in succ(s)) == sorted(t for _, t in succ(gs))
            assert [value(p.expr, s) for p in invs] == [value(p.expr, gs) for p in invs]
            assert value(m.finished, s) == value(m.finished, gs)


def test_different_ops_are_not_interchangeable():
    m, _ = build_model(load(cfg_path("default")))  # [block,yield] vs [yield,block]
    assert of_model(m).trivial
    m, _ = build_model(load(cfg_path("two-servers")))
    assert len(of_model(m).perms) == 2


# ------------------------------------------------------------------------- dead variables


def test_live_variable_analysis_on_a_hand_built_flow():
    s = Spec("toy")
    pc = s.var("pc", Domain(0, 3, None, "pc"), 0, owner=0, group="local")
    x = s.var("x", Domain(0, 9), 0, owner=0, group="local")
    y = s.var("y", Domain(0, 9), 0, owner=0, group="local")
    done = s.var("done", BOOL, 0)
    s.pc_vars = [pc]
    s.task_names = ["T"]
    from model.lang import Cite
    c = Cite("toy", "f", "g", "s")
    # 0: x := 5 -> 1;  1: y := x -> 2;  2: x := 7 (x not read first) -> 3;  3: done := y -> 0
    s.action("a", task=0, actor="K", guard=pc == 0, effect={x: 5, pc: 1}, source=c)
    s.action("b", task=0, actor="K", guard=pc == 1, effect={y: x, pc: 2}, source=c)
    s.action("c", task=0, actor="K", guard=pc == 2, effect={x: 7, pc: 3}, source=c)
    s.action("d", task=0, actor="K", guard=pc == 3, effect={done: y, pc: 0}, source=c)
    dead = dead_slots(s, [])[0]
    assert dead[0] == (x.slot, y.slot)  # both overwritten before any read
    assert dead[1] == (y.slot,)  # x is read at 1
    assert dead[2] == (x.slot,)  # y is read at 3; x is overwritten at 2
    assert dead[3] == (x.slot,)  # x is overwritten at 0 before it is read at 1
    reset = reset_function(s, {0: dead})
    assert reset(bytes([2, 5, 5, 0])) == bytes([2, 0, 5, 0])
    # Observed by an invariant: never reset.
    assert x.slot not in sum(dead_slots(s, [x == 1])[0].values(), ())


def test_dead_reset_is_a_bisimulation_on_reachable_states():
    m, props = build_model(load(cfg_path("signal")))
    invs = [p for p in props if p.kind == INVARIANT]
    reset = reset_function(m.spec, dead_slots(m.spec, [p.expr for p in invs]
                                              + [m.finished, m.spec.halt]))
    ex = Explorer(m.spec, props, m.finished)
    ex.run(Limits(max_states=20000))
    succ = ex.compiled.successors
    for s in random.Random(3).sample(ex.states, 1500):
        r = reset(s)
        assert sorted(reset(t) for _, t in succ(s)) == sorted(reset(t) for _, t in succ(r))
        assert [value(p.expr, s) for p in invs] == [value(p.expr, r) for p in invs]


# ------------------------------------------------------------------------- partial order


def test_por_interleaves_independent_tasks_once():
    s = Spec("two counters")
    n = 4
    pcs = [s.var(f"pc{t}", Domain(0, n, None, "pc"), 0, owner=t, group="local") for t in (0, 1)]
    s.pc_vars = pcs
    s.task_names = ["A", "B"]
    from model.lang import Cite
    c = Cite("toy", "f", "g", "s")
    for t in (0, 1):
        for i in range(n):
            s.action("step", task=t, actor="K", guard=pcs[t] == i, effect={pcs[t]: i + 1},
                     source=c)

    class M:  # the little a Reducer needs of a model
        spec = s
        finished = (pcs[0] == n) & (pcs[1] == n)
    full = Explorer(s, [], M.finished)
    full.run()
    red = Explorer(s, [], M.finished, reducer=Reducer(M, [], frozenset({"por"})))
    r = red.run()
    assert len(full.states) == (n + 1) ** 2
    assert r.states == 2 * n + 1  # one interleaving: A to the end, then B
    assert r.terminal == {"finished": 1}


# ------------------------------------------------------------------------- verdicts and counts

# Each reduction and all of them on the shipped configs that fit the test budget (the one with
# interchangeable tasks among them).  On the larger ones (baseline, default, preempt-locked,
# signal) CI runs `all`; each reduction alone runs with UMCG_SLOW=1 (about 2 minutes on 2
# cores, docs/reductions.md).
FAST = ("small", "one-cpu", "two-servers", "wake-swap")
SLOW = ("baseline", "default", "preempt-locked", "signal")
RUN_SLOW = os.environ.get("UMCG_SLOW") == "1"
SKIP = [pytest.mark.skip("UMCG_SLOW=1")]
CASES = [pytest.param(c, r, id=f"{c}-{r}",
                      marks=[] if c in FAST or r == "all" or RUN_SLOW else SKIP)
         for c in FAST + SLOW for r in ("symmetry", "por", "dead", "all")
         if not (c == "two-servers" and r in ("por", "dead"))]


@functools.lru_cache(maxsize=4)
def reduced_check(name: str, red: str):
    which = ALL if red == "all" else frozenset([red])
    return check(load(cfg_path(name)), Limits(), liveness=False, reduce=which)


@pytest.mark.parametrize("name,red", CASES)
def test_reduced_verdicts_agree_and_counts_are_golden(name, red):
    g = GOLDEN[name]
    which = ALL if red == "all" else frozenset([red])
    o = reduced_check(name, red)
    assert o.result.complete
    assert o.result.states == g["reduced"][red]
    assert sorted(o.violated) == sorted(g["violated"])
    assert o.verdict == g["result"]
    # Every counterexample is a run of the unreduced model ending where the property breaks.
    spec = o.model.spec
    for p in o.props:
        path = o.path(p)
        if path is None:
            continue
        assert path[0][1] == spec.init_state()
        for (_, before), (aid, after) in zip(path, path[1:], strict=False):
            a = spec.actions[aid]
            assert enabled(a, before) and apply(a, before) == after
        last = path[-1][1]
        if p.kind == INVARIANT:
            assert value(p.expr, last) == 0
        elif p.kind == DEADLOCK:  # stuck: no successor, or only itself (up to the reduction)
            canon = o.explorer.reducer.canon
            out = o.explorer.compiled.successors(last)
            assert not value(o.model.finished, last) and not value(spec.halt, last)
            assert all(canon(t) == canon(last) for _, t in out)
        # BFS keeps traces shortest unless POR prunes the shortest interleaving.
        if "por" in which:
            assert len(path) - 1 >= g["violated"][p.name]
        else:
            assert len(path) - 1 == g["violated"][p.name]


def plant_server_stays_running(m):
    state_vars = {v.slot for v in m.v["state"]}
    for a in m.spec.actions:
        if a.name == "server.set_self_idle":
            a.effect = [(t, e) for t, e in a.effect if t.slot not in state_vars]


@pytest.mark.parametrize("red", ["symmetry", "por", "dead", "all"])
def test_planted_bug_is_found_under_every_reduction(red):
    m = build(Params(servers=1, workers=1, ops=(("block", "yield"),)))
    plant_server_stays_running(m)
    props = properties(m)
    which = ALL if red == "all" else frozenset([red])
    ex = Explorer(m.spec, props, m.finished, reducer=Reducer(m, props, which))
    r = ex.run()
    assert {"INV-3", "no_contract_breach"} <= set(r.violations)
    inv3 = next(p for p in props if p.name == "INV-3")
    path = ex.path(r.violations["INV-3"])
    for (_, before), (aid, after) in zip(path, path[1:], strict=False):
        assert enabled(m.spec.actions[aid], before)
        assert apply(m.spec.actions[aid], before) == after
    assert value(inv3.expr, path[-1][1]) == 0
    assert "server.set_self_idle" in [m.spec.actions[a].name for a, _ in path[1:]]


def test_symmetric_counterexample_is_renamed_back_to_the_original_tasks():
    # 2 servers x 1 worker: the stored run is of representatives, in which the servers'
    # names may swap from one state to the next; the trace shown is one concrete run.
    o = reduced_check("two-servers", "symmetry")
    ex = o.explorer
    i = o.result.violations["no_deadlock"]
    reps = []
    while i >= 0:
        reps.append(ex.states[i])
        i = ex.parent[i]
    reps.reverse()
    concrete = [s for _, s in ex.path(o.result.violations["no_deadlock"])]
    assert [ex.reducer.canon(s) for s in concrete] == reps
    assert concrete != reps  # some representative is a renamed state
    steps = o.trace_steps(next(p for p in o.props if p.name == "no_deadlock"))
    assert len(steps) == GOLDEN["two-servers"]["violated"]["no_deadlock"]


def test_liveness_under_reductions_is_decided_on_the_full_graph():
    from checker.manifest import _lasso

    o = check(load(cfg_path("one-cpu")), Limits(), reduce=ALL)
    g = GOLDEN["one-cpu"]
    assert o.reductions == ["symmetry", "por", "dead"]
    assert len(o.live_explorer.states) == g["states"]
    assert {p.name: _lasso(o, p) for p in o.props if p.kind == "liveness"} == g["liveness"]
    lasso_prop = next(p for p in o.props if p.name == "no_kernel_spin")
    path = o.path(lasso_prop)
    spec = o.model.spec
    for (_, before), (aid, after) in zip(path, path[1:], strict=False):
        assert enabled(spec.actions[aid], before) and apply(spec.actions[aid], before) == after
