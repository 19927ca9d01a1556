"""The compiled successor function agrees with the tree-walking interpreter."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.compile import compile_spec
from model.eval import successors
from model.v0_2 import OPS, Params, build

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
