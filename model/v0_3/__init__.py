"""UMCG RFC v0.3 (Oskolkov, 2021-07-16) as a delta of the v0.2 model (semantics §3).

What differs, one mixin each: ``kernel`` (idle loop, single ttwu, try_to_wake_server, wake
detection), ``stacks`` (umcg_sll_push/pop, user-space GC), ``userspace`` (registration).
Everything else is v0.2's code, unchanged in v0.3.  Decisions: docs/model-v0.3.md.
"""

from __future__ import annotations

from model import v0_2
from model.v0_2 import Model, Params
from model.v0_3.builder import BuilderBaseV03
from model.v0_3.common import VERSION
from model.v0_3.kernel import KernelMixinV03
from model.v0_3.stacks import StacksMixinV03
from model.v0_3.userspace import UserSpaceMixinV03
from model.variant import recite


class Builder(KernelMixinV03, StacksMixinV03, UserSpaceMixinV03, v0_2.Builder,
              BuilderBaseV03):
    """v0.2's builder with the v0.3 families swapped in."""


def build(p: Params) -> Model:
    """Build the v0.3 model for the given parameters."""
    m = v0_2.build(p, Builder)
    recite(m.spec, "v0.2", VERSION)
    return m
