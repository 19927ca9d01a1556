"""Proofs by 1-induction with projection invariants (checker/z3proj.py, docs/z3.md).

The explored states only suggest the strengthening; the proof is Z3's.  So the tests check
that a found strengthening proves the property also for the monolithic k-induction engine,
that each kept projection is needed (a concrete CTI of the others, checked with
model/eval.py), that explored states missing a reachable state cannot produce a proof,
and the shipped proof of INV-12 on `small` through the CLI."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_z3 import lockstep  # x and y count up together; y <= 3 needs y <= x

from checker.cli import main
from checker.config import load
from checker.explore import Explorer
from checker.run import build_model
from checker.z3enc import Encoder
from checker.z3engine import expr_goal, goals_of, k_induction
from checker.z3mine import Term, terms
from checker.z3proj import (
    Projection,
    Reach,
    from_json,
    needed_without,
    projection_expr,
    prove,
    task_images,
    task_views,
)
from model.lang import Ref

SMALL_PROOF = "docs/proofs/small.json"


def _lockstep():  # type: ignore[no-untyped-def]
    spec = lockstep()
    ts = [Term(v.name, Ref(v), str) for v in spec.vars]
    ex = Explorer(spec, [], Ref(spec.vars[0]) == 99)
    ex.run()
    return spec, ts, ex.states


def test_projections_prove_what_plain_induction_cannot_and_each_is_needed():
    spec, ts, states = _lockstep()
    enc = Encoder(spec)
    goal = expr_goal(enc, "y_small", spec.vars[1] <= 3)
    assert k_induction(spec, goal, max_k=1).status == "cti"
    reach = Reach(ts, states)
    r = prove(spec, goal, reach)
    assert r.proof.status == "proved" and r.used
    # The same strengthening proves it for the monolithic engine (all actions in one query).
    strong = [expr_goal(enc, f"p{i}", projection_expr(ts, p)) for i, p in enumerate(r.used)]
    assert k_induction(spec, goal, strong, max_k=1).status == "proved"
    for i, p in enumerate(r.used):
        st, ai = r.witness[p]
        assert needed_without(spec, goal, reach, r.used, p, st, ai)
        assert k_induction(spec, goal, strong[:i] + strong[i + 1:], max_k=1).status == "cti"


def test_missing_states_cannot_make_a_proof():
    # Explored states cut short: projections of them are false on reachable states, and an
    # inductive conjunction that holds initially holds in every reachable state, so Z3 must
    # refuse every such strengthening (a CTI from an explored state ends the search).
    spec, ts, states = _lockstep()
    enc = Encoder(spec)
    goal = expr_goal(enc, "y_small", spec.vars[1] <= 3)
    cut = Reach(ts, states[:3])
    r = prove(spec, goal, cut)
    assert r.proof.status == "cti"


def test_shipped_proof_of_inv12_on_small(capsys):
    # The strengthening of docs/proofs/small.json, checked as the CLI does: every projection
    # on the explorer's states first, then 1-induction action by action.
    code = main(["prove", "configs/small.toml", "--property", "INV-12", "--proof", SMALL_PROOF,
                 "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["engine"] == "z3-projections"
    (e,) = doc["properties"]
    assert e["status"] == "proved" and e["k"] == 1 and e["strengthening"]
    # Each one is needed: its witness is a state that satisfies INV-12 and every other
    # projection and steps to a state that does not (model/eval.py, no Z3).
    cfg = load("configs/small.toml")
    model, props = build_model(cfg)
    ts = terms(model)
    with open(SMALL_PROOF) as f:
        projs, wit = from_json(ts, json.load(f)["properties"]["INV-12"])
    assert len(projs) == len(e["strengthening"]) and set(wit) == set(projs)
    ex = Explorer(model.spec, [], model.finished)
    ex.run()
    reach = Reach(ts, ex.states)
    (goal,) = goals_of(Encoder(model.spec), [p for p in props if p.name == "INV-12"], None)
    for p in projs:
        assert needed_without(model.spec, goal, reach, projs, p, *wit[p])


def test_cli_projection_bad_input(tmp_path, capsys):
    assert main(["prove", "configs/small.toml", "--proof", str(tmp_path / "none.json")]) == 2
    assert "--proof" in capsys.readouterr().err
    assert main(["prove", "configs/small.toml", "--save-proof", str(tmp_path / "x.json")]) == 2
    assert main(["prove", "configs/small.toml", "--projections", "--houdini"]) == 2
    assert main(["prove", "configs/small.toml", "--projections", "--jobs", "0"]) == 2
    assert "--jobs must be in 1..64" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"properties": {"INV-12": [{"terms": ["nope"], "rows": [[0]]}]}}))
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--proof",
                 str(bad)]) == 2
    assert "no term or field" in capsys.readouterr().err
    # A projection that leaves out a reachable value is refuted on the explorer's states.
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"properties": {"INV-12": [{"terms": ["S0.pc"],
                                                             "rows": [[1]]}]}}))
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--proof",
                 str(wrong)]) == 3
    assert "STRENGTHENING FAILS" in capsys.readouterr().out
    assert not (tmp_path / "x.json").exists()


def _small_reach():  # type: ignore[no-untyped-def]
    model, props = build_model(load("configs/small.toml"))
    ex = Explorer(model.spec, [], model.finished)
    ex.run()
    ts = terms(model)
    return model, props, ts, Reach(ts, ex.states)


def test_seeds_are_the_informative_one_and_two_term_projections():
    # Stated with numpy; recomputed here from the columns with plain sets.
    from checker.cmd_z3 import _domain_size

    model, _, ts, reach = _SMALL
    sizes = [_domain_size(t) for t in ts]
    cols = reach.cols
    want = set()
    for a in range(len(ts)):
        if len(set(cols[a])) < sizes[a]:
            want.add(Projection((a,), frozenset((v,) for v in cols[a])))
        for b in range(a + 1, len(ts)):
            rows = frozenset(zip(cols[a], cols[b], strict=True))
            if len(rows) < len(set(cols[a])) * len(set(cols[b])):
                want.add(Projection((a, b), rows))
    got = reach.seeds(sizes)
    assert len(got) == len(set(got)) and set(got) == want
    # The rows of every seed are values some explored state has, and contain init's.
    init = reach.value_of(model.spec.init_state())
    assert all(reach.holds(p, init) for p in got)


_SMALL = _small_reach()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=10, unique=True))
def test_projection_rows_are_the_explored_tuples(picks):
    # numpy's packed keys (up to 8 terms) and the plain path (more) agree with zip.
    _, _, ts, reach = _SMALL
    tt = tuple(sorted({p % len(ts) for p in picks}))
    p = reach.projection(tt)
    assert p.terms == tt
    assert p.rows == frozenset(zip(*[reach.cols[k] for k in tt], strict=True))


def test_task_images_rename_the_tasks_of_one_kind():
    model, _ = build_model(load("configs/default.toml"))
    ts = terms(model)
    ix = {t.name: i for i, t in enumerate(ts)}
    image = task_images(ts, [["S0"], ["W0", "W1"]])

    def names(tt):  # type: ignore[no-untyped-def]
        return [sorted(ts[k].name for k in t) for t in image(tt)]

    assert names((ix["S0.pc"], ix["W0.first"])) == [["S0.pc", "W1.first"]]
    assert names((ix["W0.pc"], ix["W1.pc"])) == []  # its own image
    assert names((ix["IWH"], ix["IW[0]"])) == []  # no task's terms
    assert names((ix["W1.state"], ix["IS[0]"])) == [["IS[0]", "W0.state"]]


def test_seeded_search_proves_inv12_on_small():
    # Seeds and task images only change where the search starts: what it returns is still
    # a 1-inductive strengthening, which a fresh check with nothing to learn accepts.
    from checker.cmd_z3 import _domain_size

    model, props, ts, reach = _SMALL
    spec = model.spec
    (goal,) = goals_of(Encoder(spec), [p for p in props if p.name == "INV-12"], None)
    seed = reach.seeds([_domain_size(t) for t in ts])
    r = prove(spec, goal, reach, seed=seed, companions=task_images(ts, [["S0"], ["W0"]]),
              minimize=False)
    assert r.proof.status == "proved" and len(r.used) == len(seed) + r.found
    again = prove(spec, goal, reach, seed=r.used, minimize=False, learn=False)
    assert again.proof.status == "proved" and again.found == 0
    # Without the projections the CTI loop added, the seeds alone are not inductive.
    assert r.found > 0
    bare = prove(spec, goal, reach, seed=seed, minimize=False, learn=False)
    assert bare.proof.status == "cti"


def test_task_views_are_the_tasks_and_shared_terms_together():
    model, _, ts, reach = _SMALL
    one = list(task_views(ts, reach, ["S0", "W0"], 1))
    assert len(one) == 2
    for view, task in zip(one, ["S0", "W0"], strict=True):
        names = {ts[k].name for k in view.terms}
        assert any(n.startswith(f"{task}.") for n in names)
        assert not any(n.startswith(("S0.", "W0.")) and not n.startswith(f"{task}.")
                       for n in names)
        assert {"IWH", "ISH"} <= names  # the shared list heads vary on small
        assert view == reach.projection(view.terms)
    # Both tasks together are every varying term: one row per explored state.
    (both,) = task_views(ts, reach, ["S0", "W0"], 2)
    assert len(both.rows) == reach.n


def test_views_reach_the_cli_and_the_proof_file(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--projections",
                 "--views", "1", "--no-minimize", "--json", "--quiet",
                 "--save-proof", str(out)]) == 0
    (e,) = json.loads(capsys.readouterr().out)["properties"]
    assert e["status"] == "proved"
    # A view is saved as its tasks (its rows come from the explorer when checked) ...
    saved = json.loads(out.read_text())["properties"]["INV-12"]
    assert sorted(x["view"] for x in saved if "view" in x) == [["S0"], ["W0"]]
    # ... and the saved proof checks.
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--proof",
                 str(out), "--quiet"]) == 0
    assert "PROVED" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"properties": {"INV-12": [{"view": ["W7"]}]}}))
    assert main(["prove", "configs/small.toml", "--property", "INV-12", "--proof",
                 str(bad)]) == 2
    assert "'view' must list task names" in capsys.readouterr().err
    views = sorted(s for s in e["strengthening"] if s.startswith("view of "))
    assert [v.split(" and ")[0] for v in views] == ["view of S0", "view of W0"]
    assert main(["prove", "configs/small.toml", "--views", "1"]) == 2
    assert main(["prove", "configs/small.toml", "--projections", "--views", "3"]) == 2
    assert "--views must be in 0..2" in capsys.readouterr().err


def test_jobs_split_the_first_round_and_leave_ctis_to_the_loop():
    model, props, ts, reach = _SMALL
    spec = model.spec
    (goal,) = goals_of(Encoder(spec), [p for p in props if p.name == "INV-12"], None)
    with open(SMALL_PROOF) as f:
        projs, _ = from_json(ts, json.load(f)["properties"]["INV-12"])
    one = prove(spec, goal, reach, seed=projs, minimize=False, learn=False)
    two = prove(spec, goal, reach, seed=projs, minimize=False, learn=False, jobs=2)
    assert one.proof.status == two.proof.status == "proved"
    # Without a needed projection the forked round finds a CTI; the loop asks it again
    # in this process and reports it (a path replayed by model/eval.py).
    cut = prove(spec, goal, reach, seed=projs[1:], minimize=False, learn=False, jobs=2)
    assert cut.proof.status == "cti" and len(cut.proof.path) == 2


DEFAULT_PROOF = "docs/proofs/default.json"


def test_shipped_default_proof_names_views_that_hold_and_contain_init():
    # The 1-induction itself takes ~17 min on 2 cores (UMCG_SLOW=1 below); here: the file
    # reads, its views are the explorer's (the row counts it recorded), and the
    # strengthening holds at the initial state and in every explored state.
    model, props = build_model(load("configs/default.toml"))
    ex = Explorer(model.spec, [], model.finished)
    ex.run()
    ts = terms(model)
    reach = Reach(ts, ex.states)
    with open(DEFAULT_PROOF) as f:
        doc = json.load(f)["properties"]
    assert sorted(doc) == ["INV-12", "INV-3"]
    for entries in doc.values():
        views: dict = {}
        projs, _ = from_json(ts, entries, reach, views)
        assert sorted(views.values()) == [("S0", "W0"), ("S0", "W1"), ("W0", "W1")]
        recorded = {tuple(e["view"]): e["explored_rows"] for e in entries if "view" in e}
        assert {g: len(p.rows) for p, g in views.items()} == recorded
        for p in projs:
            assert reach.projection(p.terms).rows <= p.rows
            assert reach.holds(p, reach.value_of(model.spec.init_state()))


@pytest.mark.skipif(os.environ.get("UMCG_SLOW") != "1", reason="UMCG_SLOW=1 (~17 min)")
def test_shipped_default_proof_checks(capsys):
    assert main(["prove", "configs/default.toml", "--property", "INV-12", "--proof",
                 DEFAULT_PROOF, "--jobs", "2", "--quiet"]) == 0
    assert "PROVED" in capsys.readouterr().out
