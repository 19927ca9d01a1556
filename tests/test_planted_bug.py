"""A deliberately wrong variant of one action must produce a violation, with a shortest trace."""

from __future__ import annotations

import networkx as nx

from checker.explore import Explorer
from model.eval import value
from model.v0_2 import Params, build
from properties.v0_2 import properties

PARAMS = Params(servers=1, workers=1, ops=(("block", "yield"),))


def explore(m):
    props = properties(m)
    ex = Explorer(m.spec, props, m.finished)
    return ex, ex.run(), props


def plant_server_stays_running(m):
    """The server 'forgets' to mark itself IDLE before it switches to the worker."""
    state_vars = {v.slot for v in m.v["state"]}
    n = 0
    for a in m.spec.actions:
        if a.name == "server.set_self_idle":
            a.effect = [(t, e) for t, e in a.effect if t.slot not in state_vars]
            n += 1
    assert n == 1


def test_the_correct_model_holds():
    _, r, _ = explore(build(PARAMS))
    assert r.complete and r.violations == {}


def test_planted_bug_is_found_with_a_shortest_trace():
    m = build(PARAMS)
    plant_server_stays_running(m)
    ex, r, props = explore(m)
    # INV-3 (server IDLE while its worker runs) breaks, and block detection's
    # cmpxchg(server.state, IDLE, RUNNING) then fails: umcg_die.
    assert "INV-3" in r.violations
    assert "no_contract_breach" in r.violations
    inv3 = next(p for p in props if p.name == "INV-3")
    path = ex.path(r.violations["INV-3"])
    assert value(inv3.expr, path[-1][1]) == 0
    assert all(value(inv3.expr, s) == 1 for _, s in path[:-1])
    # Shortest: an independent BFS over the whole graph finds no closer violating state.
    g = nx.DiGraph()
    for s in ex.states:
        for _, t in ex.compiled.successors(s):
            g.add_edge(s, t)
    dist = nx.single_source_shortest_path_length(g, m.spec.init_state())
    nearest = min(d for s, d in dist.items() if value(inv3.expr, s) == 0)
    assert len(path) - 1 == nearest
    names = [m.spec.actions[a].name for a, _ in path[1:]]
    assert "server.set_self_idle" in names  # the planted step is on the trace
