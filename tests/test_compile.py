"""The compiled successor function agrees with the tree-walking interpreter."""

from __future__ import annotations

import dataclasses
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.compile import compile_spec
from checker.config import load
from checker.explore import Explorer, Limits
from checker.run import build_model
from model.eval import successors, value
from model.v0_2 import OPS, Params, build
from model.versions import VERSIONS
from properties.base import INVARIANT

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

workloads = st.lists(st.lists(st.sampled_from(OPS), max_size=2), min_size=1, max_size=2)


@settings(max_examples=25, deadline=None)
@given(ops=workloads, servers=st.integers(1, 2), signals=st.integers(0, 1),
       preemptions=st.integers(0, 1), locked=st.booleans(), recheck=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_compiled_equals_interpreted_on_random_walks(ops, servers, signals, preemptions,
                                                     locked, recheck, seed):
    m = build(Params(servers=servers, workers=len(ops), ops=tuple(map(tuple, ops)),
                     signals=signals, preemptions=preemptions, lock_before_wait=locked,
                     server_recheck=recheck))
    c = compile_spec(m.spec)
    rnd = random.Random(seed)
    for _ in range(5):
        s = m.spec.init_state()
        for _ in range(150):
            want = sorted(successors(m.spec, s))
            assert sorted(c.successors(s)) == want
            if not want:
                break
            s = rnd.choice(want)[1]
            for v in m.spec.vars:  # every reachable value is in its variable's domain
                assert v.domain.contains(s[v.slot]), (v.name, s[v.slot])


def test_read_write_sets_cover_what_actions_touch():
    m = build(Params())
    for a in m.spec.actions:
        w = a.writes()
        for tgt, _ in a.effect:
            assert tgt.slot in w
        assert m.v["pc"][a.task].slot in a.reads() or a.actor == "E"


def test_property_names_constant_matches_the_built_properties():
    from properties.v0_2 import PROPERTY_NAMES, properties

    for p in (Params(), Params(servers=2, workers=1, ops=(("block",),))):
        assert tuple(x.name for x in properties(build(p))) == PROPERTY_NAMES


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("config", ["small.toml", "one-cpu.toml"])
def test_every_reachable_state_reads_arrays_in_range(version, config):
    """On every reachable state of every version, the interpreter, which refuses an index
    outside its array (model/eval.py), gives the compiled explorer's successors and the
    invariants' values: no guard, effect or invariant reads past an array's end."""
    cfg = load(os.path.join(HERE, "configs", config))
    cfg = dataclasses.replace(cfg, version=version)
    model, props = build_model(cfg)
    ex = Explorer(model.spec, props, model.finished)
    res = ex.run(Limits(max_states=20_000))
    assert res.complete and res.states > 100
    c = compile_spec(model.spec)
    inv = [p for p in props if p.kind == INVARIANT]
    for s in ex.states:
        assert sorted(successors(model.spec, s)) == sorted(c.successors(s))
        assert tuple(int(bool(value(p.expr, s))) for p in inv) == ex.inv_each(s)


def test_interpreter_refuses_an_index_past_the_array():
    from model.lang import Domain, Spec

    spec = Spec("toy")
    arr = spec.array("a", Domain(0, 3), [0, 0])
    after = spec.var("after", Domain(0, 3), 3)  # the slot right after a[1]
    i = spec.var("i", Domain(0, 3), 2)
    s = spec.init_state()
    assert s[after.slot] == 3  # an unchecked read of a[2] would give 3
    with pytest.raises(IndexError, match=r"a\[2\]: index outside 0..1"):
        value(arr[i], s)
