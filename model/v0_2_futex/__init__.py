"""v0.2 + futex wait/wake (Thierry Delisle's proposal in the v0.2 thread, 2021-07-12,
``acad5960-30b2-3693-9117-e0b054ee97a7@uwaterloo.ca``): WAIT and WAKE are FUTEX_WAIT and
FUTEX_WAKE, block/wake detection do the rest; SWAP stays sys_umcg_wait.  Everything else is
the v0.2 model.  Decisions: docs/model-v0.2-futex-wait-wake.md."""

from __future__ import annotations

from model import v0_2
from model.lang import BOOL, Domain
from model.v0_2 import Model, Params
from model.v0_2.builder import BuilderBase
from model.v0_2_futex.futex import FutexMixin
from model.v0_2_futex.userspace import FutexUserSpaceMixin

VERSION = "v0.2-futex-wait-wake"


class BuilderBaseFutex(BuilderBase):
    def _declare(self) -> None:
        super()._declare()
        s, names = self.spec, [t.name for t in self.tasks]
        s.name = f"umcg-{VERSION}"
        owners = list(range(self.n))
        word = s.array("futex", BOOL, [0] * self.n, owners=owners, labels=names, group="user")
        queued = s.array("futex_queued", BOOL, [0] * self.n, owners=owners, labels=names,
                         group="kernel")
        for t in self.tasks:
            word.elems[t.index].name = f"{t.name}.futex"
            queued.elems[t.index].name = f"{t.name}.futex_queued"
        self.V["futex"], self.V["futex_queued"] = word.elems, queued.elems
        # Workers waiting in FUTEX_WAIT that some task must FUTEX_WAKE (one bit per worker).
        self.g["waitq"] = s.var("waitq", Domain(0, (1 << self.p.workers) - 1, None, "mask"), 0,
                                group="user")


class Builder(FutexUserSpaceMixin, FutexMixin, v0_2.Builder, BuilderBaseFutex):
    """v0.2's builder with WAIT/WAKE done by futexes."""


def build(p: Params) -> Model:
    """Build the v0.2 + futex wait/wake model."""
    return v0_2.build(p, Builder)
