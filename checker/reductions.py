"""Which state-space reductions a check uses, and the object that applies them to the BFS.

``--reduce none|all|symmetry,por,dead`` (or ``[check] reduce = [...]`` in a configuration).
The default is none: golden counts, shortest counterexamples and the state count compared with
SPIN stay those of the full graph (docs/reductions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from checker.cfg import flows
from checker.compile import Successors
from checker.deadvars import dead_slots, reset_function
from checker.por import PartialOrder
from checker.symmetry import of_model
from model.v0_2 import Model
from properties.base import INVARIANT, Property

NAMES = ("symmetry", "por", "dead")


class ReductionError(ValueError):
    """A bad list of reductions (the message names what is allowed)."""


def parse(value: str | Iterable[str], where: str = "--reduce") -> frozenset[str]:
    """``none``, ``all`` or a comma-separated subset of NAMES (a string or a list of names)."""
    if isinstance(value, str):
        items = [x.strip() for x in value.split(",")]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = [value]
    if not all(isinstance(x, str) for x in items):
        raise ReductionError(f"{where} = {value!r}: must name reductions "
                             f"(none, all, or some of {', '.join(NAMES)})")
    if items in (["none"], []):
        return frozenset()
    if items == ["all"]:
        return frozenset(NAMES)
    for x in items:
        if x not in NAMES:
            raise ReductionError(f"{where} has {x!r}: allowed are none, all, or a comma-separated "
                                 f"subset of {', '.join(NAMES)}")
    return frozenset(items)


def describe(which: frozenset[str]) -> list[str]:
    """The reductions in a fixed order (for output)."""
    return [x for x in NAMES if x in which]


class Reducer:
    """Applies the chosen reductions to each state's successors in Explorer.run."""

    def __init__(self, model: Model, props: list[Property], which: frozenset[str]) -> None:
        spec = model.spec
        self.which = which
        invariants = [p.expr for p in props if p.kind == INVARIANT and p.expr is not None]
        fl = flows(spec)
        steps: list[Callable[[bytes], bytes]] = []
        self.dead: dict[int, dict[int, tuple[int, ...]]] = {}
        if "dead" in which:
            self.dead = dead_slots(spec, invariants + [model.finished, spec.halt], fl)
            steps.append(reset_function(spec, self.dead))
        self.symmetry = of_model(model) if "symmetry" in which else None
        if self.symmetry is not None and not self.symmetry.trivial:
            steps.append(self.symmetry.canonical())
        self.canon = _compose(steps)
        self.por = PartialOrder(spec, invariants, fl) if "por" in which else None
        self.pc_slots = [v.slot for v in spec.pc_vars]
        self.init = spec.init_state()
        self.expand = self._make_expand()

    def _make_expand(self) -> Callable:
        canon = self.canon
        por = self.por
        if por is None:
            def expand(s: bytes, out: list, seen: set, nextlayer: set) -> list:
                return [(a, canon(t)) for a, t in out]
            return expand
        owner = por.owner
        candidates = por.candidates

        def expand_por(s: bytes, out: list, seen: set, nextlayer: set) -> list:
            if len(out) > 1:
                for task in candidates(s, out):
                    sub = [(a, canon(t)) for a, t in out if owner[a] == task]
                    if not sub or len(sub) == len(out):
                        continue
                    # C3: no ample successor at this depth or above (not yet seen, or seen
                    # only while expanding this layer).
                    if all(t not in seen or t in nextlayer for _, t in sub):
                        return sub
            return [(a, canon(t)) for a, t in out]
        return expand_por

    def concretize(self, path: list[tuple[int, bytes]], succ: Successors
                   ) -> list[tuple[int, bytes]]:
        """The run of the unreduced model that a path of representatives stands for.

        Each step takes, among the concrete state's successors, one whose representative is
        the next state of the path (the action of the path if it fits): the reductions are
        bisimulations, so one always exists, and the result is a path of the full model in the
        original task names."""
        canon = self.canon
        cur = self.init
        out = [(-1, cur)]
        for aid, rep in path[1:]:
            fits = [(a, t) for a, t in succ(cur) if canon(t) == rep]
            if not fits:
                raise RuntimeError("a reduced path has no concrete counterpart (reduction bug)")
            aid, cur = next(((a, t) for a, t in fits if a == aid), fits[0])
            out.append((aid, cur))
        return out


def _compose(steps: list[Callable[[bytes], bytes]]) -> Callable[[bytes], bytes]:
    if not steps:
        return lambda s: s
    if len(steps) == 1:
        return steps[0]
    f, g = steps

    def both(s: bytes) -> bytes:
        return g(f(s))
    return both
