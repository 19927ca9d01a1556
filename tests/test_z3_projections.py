"""Proofs by 1-induction with projection invariants (checker/z3proj.py, docs/z3.md).

The explored states only suggest the strengthening; the proof is Z3's.  So the tests check
that a found strengthening proves the property also for the monolithic k-induction engine,
that each kept projection is needed (a concrete CTI of the others, checked with
model/eval.py), that explored states missing a reachable state cannot produce a proof,
and the shipped proof of INV-12 on `small` through the CLI."""

from __future__ import annotations

import json

from test_z3 import lockstep  # x and y count up together; y <= 3 needs y <= x

from checker.cli import main
from checker.config import load
from checker.explore import Explorer
from checker.run import build_model
from checker.z3enc import Encoder
from checker.z3engine import expr_goal, goals_of, k_induction
from checker.z3mine import Term, terms
from checker.z3proj import (
    Reach,
    from_json,
    needed_without,
    projection_expr,
    prove,
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
