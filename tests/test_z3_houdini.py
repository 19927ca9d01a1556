"""Houdini over guesses mined from explicit states, and the explicit check of strengthenings:
the proof is by Z3 induction whatever the guesses were (wrong ones are weakened, never
assumed), and a strengthening a reachable state breaks is reported as failing."""

from __future__ import annotations

from test_z3 import lockstep  # x and y count up together; y <= 3 needs y <= x

from checker.cli import main
from checker.explore import Explorer
from checker.z3enc import Encoder
from checker.z3engine import expr_goal, houdini, k_induction
from checker.z3mine import Guess
from model.lang import Ref, Spec
from model.v0_2 import IDLE


def _mined(spec: Spec) -> list[Guess]:
    """Every "x == a -> y in V" and its converse that holds on the explorer's states."""
    ex = Explorer(spec, [], Ref(spec.vars[0]) == 99)
    ex.run()
    out = []
    for p, c in ((0, 1), (1, 0)):
        by: dict[int, set[int]] = {}
        for st in ex.states:
            by.setdefault(st[p], set()).add(st[c])
        out += [Guess(((p, a),), c, vs) for a, vs in by.items()]
    return out


def test_houdini_proves_what_plain_induction_cannot_and_needs_what_it_keeps():
    spec = lockstep()
    x, y = spec.vars
    enc = Encoder(spec)
    goal = expr_goal(enc, "y_small", y <= 3)
    assert k_induction(spec, goal, max_k=1).status == "cti"
    guesses = _mined(spec)
    hr = houdini(spec, goal, [Ref(x), Ref(y)], guesses)
    assert hr.proof.status == "proved" and hr.used
    strong = [expr_goal(enc, f"g{i}", _guess_expr(spec, g)) for i, g in enumerate(hr.used)]
    assert k_induction(spec, goal, strong, max_k=1).status == "proved"
    # Each kept guess is needed: without it the rest is not inductive any more.
    for k in range(len(strong)):
        rest = strong[:k] + strong[k + 1:]
        assert k_induction(spec, goal, rest, max_k=1).status == "cti"


def _guess_expr(spec: Spec, g: Guess):  # type: ignore[no-untyped-def]
    from model.lang import Or

    v = [Ref(x) for x in spec.vars]
    return Or(*[v[t] != a for t, a in g.premise], *[v[g.term] == b for b in sorted(g.allowed)])


def test_a_wrong_guess_is_weakened_not_assumed():
    spec = lockstep()
    x, y = spec.vars
    enc = Encoder(spec)
    wrong = Guess((), 0, {0})  # "x is always 0": false after one step
    hr = houdini(spec, expr_goal(enc, "y_small", y <= 3), [Ref(x), Ref(y)],
                 [wrong, *_mined(spec)])
    assert hr.proof.status == "proved"
    assert wrong.allowed > {0}  # weakened until inductive
    ex = Explorer(spec, [], Ref(x) == 99)
    ex.run()
    assert {st[0] for st in ex.states} <= wrong.allowed


def test_houdini_cti_is_not_a_violation():
    spec = lockstep()
    x, y = spec.vars
    enc = Encoder(spec)
    hr = houdini(spec, expr_goal(enc, "y_small", y <= 3), [Ref(x), Ref(y)], [])
    assert hr.proof.status == "cti" and hr.proof.path is not None


def test_a_strengthening_the_explorer_refutes_is_reported(capsys, monkeypatch):
    from properties import strengthening_v0_2 as lib

    bad = lib.Strengthening("no_idle_server", "S0 is never IDLE (false)",
                            lambda m: m.v["state"][m.servers[0].index] != IDLE)
    monkeypatch.setitem(lib.LIBRARY, "no_idle_server", bad)
    code = main(["prove", "configs/small.toml", "--property", "INV-12", "--quiet",
                 "--strengthen", "pc_labels,no_idle_server"])
    out = capsys.readouterr().out
    assert code == 3 and "STRENGTHENING FAILS" in out and "no_idle_server" in out


def test_cli_houdini_on_v0_2_and_its_bad_input(capsys):
    import json

    code = main(["prove", "configs/small.toml", "--property", "INV-9", "--houdini", "--json",
                 "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["engine"] == "z3-houdini"
    assert doc["properties"][0]["status"] == "proved"
    assert main(["prove", "configs/small.toml", "--houdini", "--engine", "spacer"]) == 2
    assert main(["prove", "configs/small.toml", "--houdini", "--max-rounds", "0"]) == 2
    assert "error" in capsys.readouterr().err


def test_cli_houdini_query_timeout_ends_as_unknown(capsys):
    # A protocol invariant's CTI query can stall for minutes (docs/z3.md); --timeout bounds
    # each query, and the run ends "unknown" (exit 3), not as a proof or a CTI.
    import json

    code = main(["prove", "configs/small.toml", "--property", "INV-12", "--houdini",
                 "--timeout", "0.001", "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 3
    (p,) = doc["properties"]
    assert p["status"] == "unknown" and "no answer within 0.001 s" in p["detail"]
