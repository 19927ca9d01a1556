"""Hypothesis drives the model and the executor with the same operation sequences: a
random configuration (servers, workers, each worker's operations, preemption, LOCKED,
the server's re-check), then a random sequence of choices among what can happen next.
After every step the executor's state must be the model's successor by that action, and
the two must agree on what can happen next (docs/executor.md)."""

from __future__ import annotations

from functools import lru_cache

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from executor.conform import Conformance
from executor.drive import _agree, options
from executor.threads import Execution
from model.v0_2 import OPS, Params, build


@lru_cache(maxsize=64)
def conformance(p: Params) -> Conformance:
    return Conformance(build(p))


ops = st.lists(st.sampled_from(OPS), max_size=2).map(tuple)


@st.composite
def params(draw) -> Params:
    workers = draw(st.integers(1, 2))
    # Signals are left out: with them the model diverges from the executor on purpose
    # (the kernel-label off-by-one in docs/executor.md, pinned by test_executor.py).
    return Params(servers=draw(st.integers(1, 2)), workers=workers,
                  ops=tuple(draw(ops) for _ in range(workers)),
                  lock_before_wait=draw(st.booleans()), server_recheck=draw(st.booleans()),
                  signals=0, preemptions=draw(st.integers(0, 1)), cpus=draw(st.integers(0, 2)))


class ModelAndExecutor(RuleBasedStateMachine):
    ex: Execution | None = None

    @initialize(p=params(), seed=st.integers(0, 2**16))
    def start(self, p: Params, seed: int) -> None:
        import random

        self.conf = conformance(p)
        self.conf.reset()
        self.ex = Execution(options(p))
        rng = random.Random(seed)
        self.ex.k.chooser = lambda t, key, o: rng.choice(o)
        self.ex.start()
        self.conf.check_init(self.ex.k.snapshot(self.ex.k))

    @rule(pick=st.integers(0, 1000))
    def step(self, pick: int) -> None:
        ch = self.ex.choices()
        if ch:
            self.conf.check(self.ex.step(ch[pick % len(ch)]))

    @invariant()
    def same_next_steps(self) -> None:
        if self.ex is not None:
            _agree(self.ex, self.conf, self.ex.choices())

    def teardown(self) -> None:
        if self.ex is not None:
            self.ex.close()


ModelAndExecutor.TestCase.settings = settings(
    max_examples=20, stateful_step_count=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestModelAndExecutor = ModelAndExecutor.TestCase
