"""Which properties each modelled version is checked against (docs/design-questions.md,
"property sets").  Every version gets the v0.2 suite (semantics §8) except where the property
talks about a structure the version does not have ("not applicable", with the reason) or
where the version changes what the structure means (v0.3's deleted marks)."""

from __future__ import annotations

from collections.abc import Callable

from model.lang import And, Implies, Or
from model.v0_2 import IDLE, Model
from properties.base import INVARIANT, Property
from properties.v0_2 import chain, on_list
from properties.v0_2 import properties as v0_2_properties


def _snode(t: int) -> int:
    return 4 + 2 * t


def v0_3_properties(m: Model) -> list[Property]:
    """v0.3 pops by marking a node deleted (bit 0 of its next word) and leaves it linked
    until user space garbage-collects it: a deleted node is off the list for INV-12."""
    mem = m.spec.arrays["mem"]
    is_ = chain(m, 2, len(m.servers) + 1)
    live = {s.index: And(on_list(is_, _snode(s.index)), (mem[_snode(s.index)] & 1) == 0)
            for s in m.servers}
    out = []
    for p in v0_2_properties(m):
        if p.name == "INV-12":
            V = m.v
            p = Property(
                "INV-12", INVARIANT,
                "a server on the idle-servers list and not marked deleted is IDLE with "
                "next_tid == 0",
                "semantics §8 INV-12; v0.3 uapi idle_servers_ptr doc (deleted = bit 0) [S10]",
                And(*[Implies(live[s], And(V["state"][s] == IDLE, V["next_tid"][s] == 0))
                      for s in live]),
                premise=Or(*live.values()))
        out.append(p)
    return out


IDLE_FUTEX_NA = {"INV-12": "no idle-servers list: idle servers are a counter (idle_futex_ptr)"}

# version -> (safety properties, {property: why it does not apply})
SAFETY: dict[str, tuple[Callable[[Model], list[Property]], dict[str, str]]] = {
    "v0.2": (v0_2_properties, {}),
    "v0.2-futex-wait-wake": (v0_2_properties, {}),
    "v0.2-idle-futex": (v0_2_properties, IDLE_FUTEX_NA),
    "v0.3": (v0_3_properties, {}),
}


def safety_properties(version: str, m: Model) -> list[Property]:
    fn, na = SAFETY[version]
    return [p for p in fn(m) if p.name not in na]


def not_applicable(version: str) -> dict[str, str]:
    return dict(SAFETY[version][1])
