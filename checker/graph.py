"""The reachable state graph of a finished exploration, with state indices as nodes.

Edges are recomputed from the stored states (successors are deterministic), so the
explorer itself keeps no edge list; building the graph costs one more pass."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from checker.explore import Explorer


@dataclass
class StateGraph:
    """Compact adjacency: successors of state i are targets[offsets[i]:offsets[i+1]],
    taken by actions[...] (action indices)."""

    offsets: array
    targets: array
    actions: array

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    def succ(self, i: int) -> list[tuple[int, int]]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return list(zip(self.actions[a:b], self.targets[a:b], strict=True))


def state_graph(ex: Explorer) -> StateGraph:
    """Every transition between explored states (states past a limit are left out)."""
    index = {s: i for i, s in enumerate(ex.states)}
    offsets, targets, actions = array("l", [0]), array("l"), array("l")
    succ = ex.compiled.successors
    for s in ex.states:
        for aid, t in succ(s):
            j = index.get(t)
            if j is not None:
                targets.append(j)
                actions.append(aid)
        offsets.append(len(targets))
    return StateGraph(offsets, targets, actions)
