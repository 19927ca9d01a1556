"""SPIN on the exported Promela agrees with the explorer: the same number of reachable
states and the same violated properties (docs/spin.md).

Needs `spin` and `gcc` (setup.sh installs them).  A missing tool fails these tests with
that hint instead of skipping them, so CI cannot pass without the cross-check."""

from __future__ import annotations

import os

import pytest
from test_planted_bug import plant_server_stays_running  # tests/ is on sys.path under pytest

from checker.cli import main
from checker.config import load
from checker.explore import Explorer
from checker.promela import to_promela
from checker.run import check
from checker.spin import INVALID_END, SETUP_HINT, compile_pan, missing_tools, run_pan
from model.lang import BOOL, And, Cite, Domain, Spec, enum
from model.v0_2 import Params, build
from properties.base import DEADLOCK, INVARIANT, Property
from properties.v0_2 import properties

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CITE = Cite("test", "tests/test_spin.py", "hand-made", "-")

# -O0: these models compile in ~2 s instead of ~10 s at -O2 (the count does not depend
# on it); the benchmark uses -O2.
OPT = "-O0"


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    missing = missing_tools()
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found on PATH: {SETUP_HINT}")


def spin_verdict(pml, tmp_path, reduce: bool = False):
    pan, _ = compile_pan(pml.text, str(tmp_path), reduce=reduce, opt=OPT)
    r = run_pan(pan, all_errors=True, hash_bits=20, timeout=120)
    assert r.complete, r.output
    names = {"no_deadlock" if t == INVALID_END else pml.tags[t] for t in r.violated}
    return r, names


# Each config ran in under 5 s here (export, spin -a, gcc -O0, pan, and our explorer);
# between them: no violation (1 and 2 workers), a deadlock, three invariants, two servers.
CONFIGS = {"small": 1293, "baseline": 188164, "one-cpu": 1809, "wake-swap": 94820,
           "two-servers": 168234}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_spin_counts_the_same_states_and_finds_the_same_violations(name, tmp_path):
    from checker.cmd_export import promela_of

    cfg = load(os.path.join(ROOT, "configs", f"{name}.toml"))
    o = check(cfg, liveness=False)
    assert o.result.complete and o.result.states == CONFIGS[name]
    r, violated = spin_verdict(promela_of(cfg), tmp_path)
    assert r.states == o.result.states
    assert violated == set(o.result.violations)


def test_a_planted_bug_is_an_assertion_violation_in_spin(tmp_path):
    m = build(Params(servers=1, workers=1, ops=(("block", "yield"),)))
    plant_server_stays_running(m)
    props = properties(m)
    res = Explorer(m.spec, props, m.finished).run()
    assert {"INV-3", "no_contract_breach"} <= set(res.violations)
    r, violated = spin_verdict(to_promela(m.spec, props, m.finished), tmp_path)
    assert r.states == res.states
    assert violated == set(res.violations)


def _swap_spec(jam: bool) -> tuple[Spec, list[Property], object]:
    """x and y swap (a cycle of reads and writes), a[i] := i moves an index, and one
    action can leave the state unchanged: every awkward case of the translation."""
    s = Spec("swap")
    x = s.var("x", Domain(0, 3), 1)
    y = s.var("y", Domain(0, 3), 2)
    i = s.var("i", Domain(0, 2), 0)
    a = s.array("a", Domain(0, 3), [3, 0, 1])
    done = s.var("done", BOOL, 0)
    pc = s.var("pc", enum("run", "end", "spin", kind="pc"), 0)
    s.pc_vars = [pc]
    s.action("swap", task=0, actor="U", guard=pc == 0, effect={x: y, y: x}, source=CITE)
    s.action("store", task=0, actor="U", guard=And(pc == 0, i < 2),
             effect=[(a[i], x), (i, i + 1)], source=CITE)
    # a[x] := a[y]: a self-loop whenever the two already agree.
    s.action("copy", task=0, actor="U", guard=pc == 0, effect=[(a[x], a[y])], source=CITE)
    s.action("finish", task=0, actor="U", guard=And(pc == 0, a[0] == y),
             effect={pc: 1, done: 1}, source=CITE)
    # Stuck without finishing: a deadlock (pc = end, not done), and a state whose only
    # step is a pure spin (pc = spin), which the explorer counts as stuck too.
    if jam:
        s.action("jam", task=0, actor="U", guard=And(pc == 0, a[2] == 0), effect={pc: 1},
                 source=CITE)
    s.action("jam_spin", task=0, actor="U", guard=And(pc == 0, a[1] == a[2]), effect={pc: 2},
             source=CITE)
    s.action("spin", task=0, actor="U", guard=pc == 2, effect={pc: 2}, source=CITE)
    props = [Property("x_not_a1", INVARIANT, "x never equals a[1] + 2", "test",
                      x != a[1] + 2),
             Property("no_deadlock", DEADLOCK, "-", "test")]
    return s, props, done == 1


@pytest.mark.parametrize("jam", [True, False])
def test_simultaneous_assignment_and_self_loops_match_the_explorer(jam, tmp_path):
    spec, props, finished = _swap_spec(jam)
    res = Explorer(spec, props, finished).run()
    # Without `jam`, only the spin states make no_deadlock fail.
    assert res.terminal.keys() == {"finished", "spin"} | ({"deadlock"} if jam else set())
    assert "no_deadlock" in res.violations
    pml = to_promela(spec, props, finished)
    assert pml.stutter_actions == 2  # `swap` when x == y, `copy` when a[x] == a[y]
    assert pml.silent_actions == 1  # `spin`
    r, violated = spin_verdict(pml, tmp_path)
    assert r.states == res.states
    assert violated == set(res.violations)


def test_spins_partial_order_reduction_removes_nothing_here(tmp_path):
    """Every Spec variable is a global, so SPIN's POR finds no safe move (a finding that
    docs/spin.md reports): its count equals the unreduced one."""
    from checker.cmd_export import promela_of

    cfg = load(os.path.join(ROOT, "configs", "one-cpu.toml"))
    r, violated = spin_verdict(promela_of(cfg), tmp_path, reduce=True)
    assert r.states == CONFIGS["one-cpu"] and violated == {"no_deadlock"}


def test_export_cli_writes_promela_and_refuses_bad_output(tmp_path, capsys):
    out = tmp_path / "small.pml"
    assert main(["export", os.path.join(ROOT, "configs", "small.toml"),
                 "--promela", str(out)]) == 0
    text = out.read_text()
    assert "active proctype task_W0()" in text and "active proctype monitor()" in text
    assert main(["export", os.path.join(ROOT, "configs", "small.toml"),
                 "--promela", str(tmp_path)]) == 2
    assert main(["export", os.path.join(ROOT, "configs", "small.toml"),
                 "--promela", str(tmp_path / "missing" / "x.pml")]) == 2
    assert main(["export", str(tmp_path / "nope.toml"), "--promela", str(out)]) == 2
    assert not (tmp_path / "missing").exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("umcg-check: error:") == 3
