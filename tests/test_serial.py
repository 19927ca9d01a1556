"""race --outcomes: outcomes that only an interleaving of two operations reaches."""

from __future__ import annotations

from checker.serial import outcomes
from checker.z3engine import Operation
from model.lang import And, Cite, Domain, Spec

CITE = Cite("toy", "toy.c", "toy", "step")


def increments(shared: bool):
    """Each task runs `tmp = x; x = tmp + 1` (two steps) on a shared counter, or on a
    counter of its own when shared is False."""
    s = Spec("inc")
    pcs = [s.var(f"pc{t}", Domain(0, 2), 0) for t in range(2)]
    tmps = [s.var(f"tmp{t}", Domain(0, 3), 0) for t in range(2)]
    xs = [s.var("x", Domain(0, 3), 0, group="user")]
    if not shared:
        xs.append(s.var("y", Domain(0, 3), 0, group="user"))
    s.pc_vars = pcs
    s.task_names = ["A", "B"]
    ops = []
    for t in range(2):
        x = xs[t] if not shared else xs[0]
        a = s.action("read", task=t, actor="U", guard=pcs[t] == 0,
                     effect={tmps[t]: x, pcs[t]: 1}, source=CITE)
        b = s.action("write", task=t, actor="U", guard=pcs[t] == 1,
                     effect={x: tmps[t] + 1, pcs[t]: 2}, source=CITE)
        # a step of the task outside the operation ends the operation's instance
        s.action("done", task=t, actor="U", guard=And(pcs[t] == 2, tmps[t] != 3),
                 effect={tmps[t]: 3}, source=CITE)
        ops.append(Operation(f"{'AB'[t]}.inc", t, frozenset({a.index, b.index})))
    return s, ops


def test_lost_update_is_an_outcome_no_serial_order_reaches():
    spec, (a, b) = increments(shared=True)
    r = outcomes(spec, a, b)
    assert r.serial == 1 and r.only_interleaved == [(1,)]  # x == 1: one increment lost
    assert r.witness is not None and len(r.witness) - 1 == 6
    assert r.witness[-1][1][spec.var_by_name("x").slot] == 1


def test_independent_operations_have_no_such_outcome():
    spec, (a, b) = increments(shared=False)
    r = outcomes(spec, a, b)
    assert r.only_interleaved == [] and r.witness is None and r.serial == r.interleaved == 1


def test_cli_outcomes_on_v0_2(capsys):
    from checker.cli import main

    code = main(["race", "configs/small.toml", "--between", "W0.block,S0.take_idle",
                 "--outcomes", "--quiet"])
    out = capsys.readouterr().out
    assert code in (0, 1, 3) and "Answer:" in out
    assert main(["race", "configs/small.toml", "--between", "W0.block,S0.take_idle",
                 "--project", "W0.state"]) == 2  # --project needs --outcomes
