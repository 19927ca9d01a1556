"""The native engine (checker/cgen.py, checker/native.py) against the Python explorer.

Golden figures come from configs/manifest.json (the Python explorer's counts, coverage and
shortest counterexamples); the benchmark configurations' symmetry counts are compared with a
live Python run.  Every native counterexample is replayed by the reference interpreter
(model/eval.py)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from types import SimpleNamespace

import pytest

from checker.cli import main
from checker.config import ConfigError, load, parse
from checker.explore import Explorer, Limits, ModelError
from checker.native import NativeError, build, explore
from checker.run import check
from checker.z3engine import replay
from model.eval import value
from model.lang import And, Cite, Domain, Ite, Or, Spec
from properties.base import DEADLOCK, INVARIANT, Property

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(HERE, "configs", "manifest.json")) as f:
    GOLDEN = json.load(f)
# `large` (8.2 M states unreduced) only under symmetry: 4.1 M states, a few seconds.
SHIPPED = [n for n in GOLDEN if n != "large"]
CITE = Cite("toy", "toy.c", "toy", "step")


def cfg_path(name: str) -> str:
    if name in GOLDEN:
        return os.path.join(HERE, "configs", f"{name}.toml")
    return os.path.join(HERE, "benchmarks", "configs", f"{name}.toml")


@functools.lru_cache(maxsize=8)
def native(name: str, sym: bool = False):
    return check(load(cfg_path(name)), Limits(), liveness=False,
                 reduce=frozenset({"symmetry"}) if sym else frozenset(), engine="native")


def assert_paths_replay(o) -> dict[str, int]:
    """Every counterexample is a run of the unreduced model from its initial state that
    ends where its property breaks; returns the lengths."""
    spec = o.model.spec
    lengths = {}
    for p in o.props:
        path = o.path(p)
        if path is None:
            continue
        replay(spec, path)  # every step checked by model/eval.py, from the initial state
        last = path[-1][1]
        if p.kind == INVARIANT:
            assert value(p.expr, last) == 0
        else:
            assert p.kind == DEADLOCK
            assert not value(o.model.finished, last) and not value(spec.halt, last)
        lengths[p.name] = len(path) - 1
    return lengths


@pytest.mark.parametrize("name", SHIPPED)
def test_native_equals_the_golden_python_exploration(name):
    g = GOLDEN[name]
    o = native(name)
    r = o.result
    assert r.complete and o.verdict == g["result"]
    assert (r.states, r.transitions, r.depth) == (g["states"], g["transitions"], g["depth"])
    assert o.coverage() == g["coverage"]
    assert assert_paths_replay(o) == g["violated"]  # the same shortest lengths


@pytest.mark.parametrize("name", ["small", "one-cpu", "wake-swap", "two-servers"])
def test_end_states_layers_and_first_violations_equal_python(name):
    # Same successor order, so the BFS numbers states alike: the same first violating state,
    # the same first end state of each kind, the same layers.
    o = native(name)
    py = check(load(cfg_path(name)), Limits(), liveness=False)
    assert o.result.terminal == py.result.terminal
    assert o.result.first_terminal == py.result.first_terminal
    assert o.result.violations == py.result.violations
    assert o.result.layers == py.result.layers
    assert o.result.premise_seen == py.result.premise_seen
    for p in o.props:
        assert o.path(p) == py.path(p)


@pytest.mark.parametrize("name", ["two-servers", "large"])
def test_symmetry_counts_equal_the_python_reduced_counts(name):
    o = native(name, sym=True)
    assert o.result.states == GOLDEN[name]["reduced"]["symmetry"]
    assert sorted(o.violated) == sorted(GOLDEN[name]["violated"])
    assert assert_paths_replay(o) == GOLDEN[name]["violated"]


@pytest.mark.parametrize("name", ["1s2w-all", "red-1s2w-sym"])
def test_symmetry_on_benchmark_configs_equals_python(name):
    o = native(name, sym=True)
    py = check(load(cfg_path(name)), Limits(), liveness=False, reduce=frozenset({"symmetry"}))
    assert (o.result.states, o.result.transitions, o.result.depth) == \
        (py.result.states, py.result.transitions, py.result.depth)
    assert o.result.terminal == py.result.terminal
    assert assert_paths_replay(o) == {p.name: len(py.path(p)) - 1 for p in py.props
                                      if py.path(p) is not None}


def toy() -> tuple[SimpleNamespace, list[Property]]:
    """Corners of the Python semantics: a computed Index, `or` as a value
    is Python's (the deciding operand), a swap is simultaneous, shifts, ite, a self-loop (spin)
    and a halt."""
    s = Spec("toy")
    d = Domain(0, 7)
    x = s.var("x", d, 1)
    y = s.var("y", d, 2)
    arr = s.array("a", Domain(0, 7), [3, 0, 5])
    s.task_names = ["A"]
    last = arr.elems[2]
    s.action("swap", task=0, actor="U", guard=x != y, effect={x: y, y: x}, source=CITE)
    s.action("wrap", task=0, actor="U", guard=And(x >= 4, x < 7),
             effect={x: arr[x - 4]}, source=CITE)
    s.action("py_or", task=0, actor="U", guard=y < 4,
             effect={y: Or(arr.elems[1], y + 2)}, source=CITE)  # a[1] is 0: y + 2
    s.action("shift", task=0, actor="U", guard=last > 1,
             effect={last: (last >> 1) | (x & 1) << 2}, source=CITE)
    s.action("idx_store", task=0, actor="U", guard=x < 3,
             effect={arr[x]: Ite(y == 2, 6, 1)}, source=CITE)
    s.action("spin", task=0, actor="U", guard=x == 7, effect={x: x}, source=CITE)
    s.halt = y == 7
    props = [Property("x_not_6", INVARIANT, "", "test", x != 6),
             Property("no_deadlock", DEADLOCK, "", "test")]
    return SimpleNamespace(spec=s, finished=x == 0), props


def test_toy_semantics_equal_python():
    m, props = toy()
    ex = Explorer(m.spec, props, m.finished)
    py = ex.run()
    nat = explore(m, props, Limits(), frozenset())
    r = nat.result
    assert (r.states, r.transitions, r.depth, r.coverage) == \
        (py.states, py.transitions, py.depth, py.coverage)
    assert (r.terminal, r.first_terminal, r.violations) == \
        (py.terminal, py.first_terminal, py.violations)
    assert "spin" in r.terminal and py.states > 20
    for i in r.violations.values():
        assert nat.explorer.path(i) == ex.path(i)


def test_store_outside_a_byte_is_a_model_error_on_both_engines():
    m, props = toy()
    x = m.spec.vars[0]
    m.spec.action("overflow", task=0, actor="U", guard=x == 3, effect={x: x + 253}, source=CITE)
    with pytest.raises(ModelError, match="overflow.*stores 256 into x, outside 0..255"):
        Explorer(m.spec, props, m.finished).run()
    with pytest.raises(ModelError, match="overflow.*stores 256 into x, outside 0..255"):
        explore(m, props, Limits(), frozenset())


def test_an_index_outside_its_array_is_a_model_error():
    # The reference interpreter refuses it (model/eval.py); the native engine must not read a
    # neighbouring variable instead, as an unchecked base + index would.
    m, props = toy()
    x = m.spec.vars[0]
    arr = m.spec.arrays["a"]
    m.spec.action("past", task=0, actor="U", guard=x == 3, effect={x: arr[x]}, source=CITE)
    with pytest.raises(ModelError, match=r"past \(task A\) indexes a\[3\], outside 0..2"):
        explore(m, props, Limits(), frozenset())


def test_limits_stop_as_incomplete_like_python(capsys):
    o = check(load(cfg_path("wake-swap")), Limits(max_states=5000), liveness=False,
              engine="native")
    py = check(load(cfg_path("wake-swap")), Limits(max_states=5000), liveness=False)
    assert (o.result.states, o.result.stopped_by) == (py.result.states, "max_states")
    assert o.exit_code == 3
    small = check(load(cfg_path("wake-swap")), Limits(max_memory=1 << 20), liveness=False,
                  engine="native")
    assert (small.result.complete, small.result.stopped_by) == (False, "max_memory")
    assert 0 < small.result.states < GOLDEN["wake-swap"]["states"]


def test_cli_native_json_and_trace_dir(tmp_path, capsys):
    rc = main(["check", cfg_path("one-cpu"), "--engine", "native", "--json", "--quiet",
               "--no-liveness", "--trace-dir", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and doc["stats"]["states"] == GOLDEN["one-cpu"]["states"]
    assert [p["length"] for p in doc["properties"] if p["status"] == "violated"] == [37]
    assert os.listdir(tmp_path) == ["one-cpu.no_deadlock.itf.json"]


@pytest.mark.parametrize("argv,msg", [
    (["--engine", "java"], "invalid choice"),
    (["--engine", "native", "--reduce", "por"], "only symmetry"),
    (["--engine", "native", "--max-memory", "-1"], "--max-memory"),
    (["--engine", "native", "--report", "/tmp/x"], "--engine python"),
    (["--max-memory", "2"], "native engine only"),
])
def test_cli_bad_native_usage_is_one_line_exit_2(argv, msg, capsys):
    assert main(["check", cfg_path("small"), "--no-liveness", "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]


def test_config_engine_key():
    assert parse({"check": {"engine": "native"}}, "x").engine == "native"
    assert parse({}, "x").engine == "python"
    with pytest.raises(ConfigError, match="'check.engine' = 'c': must be one of python, native"):
        parse({"check": {"engine": "c"}}, "x")


def test_gcc_missing_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("UMCG_NATIVE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(NativeError, match="needs gcc"):
        build("int main(void) { return 0; }\n")
    assert main(["check", cfg_path("small"), "--engine", "native", "--quiet"]) == 2
    assert "needs gcc" in capsys.readouterr().err


def test_unwritable_cache_is_a_clear_error(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("UMCG_NATIVE_CACHE", str(blocker / "cache"))
    with pytest.raises(NativeError, match="cannot write.*UMCG_NATIVE_CACHE"):
        build("int main(void) { return 0; }\n")
