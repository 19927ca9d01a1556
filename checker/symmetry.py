"""Symmetry reduction: interchangeable tasks are permuted to a canonical representative.

Two tasks are interchangeable when the configuration gives them the same role and the same
parameters: all servers (they run the same loop), and workers with the same ``ops`` list.
A permutation pi of the tasks acts on a state by moving every per-task slot of task i to task
pi(i) and renaming every value that names a task, which the variables' domains mark
(model/lang.py Domain.kind):

- ``task``: 0 is "none", k is task k-1 (TIDs, server_tid, next_tid, tid/tgt locals, umcg_die);
- ``ptr``: a user-memory address << 1 | lock bit; the per-task addresses (the ``mem`` slots
  owned by a task: &umcg_task.idle_workers_ptr, ...) move with their task;
- ``mask``: one bit per worker, in worker order (the user-space ready set, runq).

The canonical representative of a state is the least byte string over the group's images.
Exploring representatives only is sound for every property that is itself symmetric; every
v0.2 property quantifies over all workers or all servers, and tests/test_reductions.py checks
on reachable states that successors and every invariant commute with each permutation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from model.lang import Spec
from model.v0_2 import Model

Perm = tuple[int, ...]


def groups(roles: list[tuple[str, object]]) -> list[list[int]]:
    """Classes of interchangeable tasks, from each task's (role, parameters)."""
    by: dict[tuple[str, object], list[int]] = {}
    for t, key in enumerate(roles):
        by.setdefault(key, []).append(t)
    return [g for g in by.values() if len(g) > 1]


def permutations(n: int, classes: list[list[int]]) -> list[Perm]:
    """Every task permutation that maps each class onto itself (identity first)."""
    per_class = [list(itertools.permutations(c)) for c in classes]
    out: list[Perm] = []
    for choice in itertools.product(*per_class):
        p = list(range(n))
        for cls, img in zip(classes, choice, strict=True):
            for a, b in zip(cls, img, strict=True):
                p[a] = b
        out.append(tuple(p))
    return out


class Symmetry:
    """The permutation group of a model's interchangeable tasks, acting on states."""

    def __init__(self, spec: Spec, workers: list[int], classes: list[list[int]]) -> None:
        self.spec = spec
        self.n = len(spec.task_names)
        self.workers = workers
        self.perms = permutations(self.n, classes)
        compiled = [self._compile(p) for p in self.perms]
        self.apply: list[Callable[[bytes], bytes]] = [f for f, _ in compiled]
        # below[k](s, b): the image of s under perm k if it is less than b, else None
        self.below = [g for _, g in compiled]

    @property
    def trivial(self) -> bool:
        return len(self.perms) <= 1

    def _slot_map(self, p: Perm) -> tuple[dict[int, int], dict[int, int]]:
        """Where each slot goes, and where each user-memory address goes, under p."""
        spec = self.spec
        slot_to: dict[int, int] = {}
        addr_to: dict[int, int] = {}
        for name, arr in spec.arrays.items():
            owners = [v.owner for v in arr.elems]
            if name == "mem":
                # An owned address moves to the same field of the image task.
                key = {(v.owner, v.name.split(".", 1)[-1]): a for a, v in enumerate(arr.elems)}
                for a, v in enumerate(arr.elems):
                    b = a if v.owner is None else key[(p[v.owner], v.name.split(".", 1)[-1])]
                    addr_to[a] = b
                    slot_to[v.slot] = arr.elems[b].slot
            elif owners == list(range(self.n)):
                for i, v in enumerate(arr.elems):
                    slot_to[v.slot] = arr.elems[p[i]].slot
        for v in spec.vars:
            slot_to.setdefault(v.slot, v.slot)
        return slot_to, addr_to

    def _value_map(self, kind: str, p: Perm, addr_to: dict[int, int]) -> tuple[int, ...] | None:
        if kind == "task":
            return tuple([0] + [p[k - 1] + 1 if k <= self.n else k for k in range(1, 256)])
        if kind == "ptr":
            return tuple((addr_to.get(x >> 1, x >> 1) << 1) | (x & 1) for x in range(256))
        if kind == "mask":
            pos = {w: i for i, w in enumerate(self.workers)}
            out = []
            for x in range(256):
                y = 0
                for i, w in enumerate(self.workers):
                    if x >> i & 1:
                        y |= 1 << pos[p[w]]
                out.append(y | (x & ~((1 << len(self.workers)) - 1)))
            return tuple(out)
        return None

    def image_table(self, p: Perm) -> list[tuple[int, str | None, tuple[int, ...] | None]]:
        """Per destination slot of p's image: (source slot, value kind, value map), the map
        None where the value is not renamed.  The Python and native (checker/cgen.py) engines
        both build their permutations from this table."""
        slot_to, addr_to = self._slot_map(p)
        src_of = {dst: src for src, dst in slot_to.items()}
        out: list[tuple[int, str | None, tuple[int, ...] | None]] = []
        for dst in range(len(self.spec.vars)):
            src = src_of[dst]
            kind = self.spec.vars[src].domain.kind
            vm = self._value_map(kind, p, addr_to)
            if vm is None or all(vm[x] == x for x in range(256)):
                out.append((src, None, None))
            else:
                out.append((src, kind, vm))
        return out

    def _compile(self, p: Perm) -> tuple[Callable, Callable]:
        ns: dict[str, object] = {}
        elems = []
        for src, kind, vm in self.image_table(p):
            if vm is None:
                elems.append(f"s[{src}]")
            else:
                name = f"M_{kind}"
                ns[name] = vm
                elems.append(f"{name}[s[{src}]]")
        text = f"def perm(s):\n    return bytes(({', '.join(elems)},))\n"
        # Comparing the image with b slot by slot stops at the first difference, which is
        # nearly always among the first per-task slots: most images are never built.
        lines = ["def below(s, b):"]
        for dst, e in enumerate(elems):
            if e == f"s[{dst}]":
                lines.append(f"    if s[{dst}] != b[{dst}]:")
                lines.append(f"        return perm(s) if s[{dst}] < b[{dst}] else None")
            else:
                lines.append(f"    v = {e}")
                lines.append(f"    if v != b[{dst}]:")
                lines.append(f"        return perm(s) if v < b[{dst}] else None")
        lines.append("    return None")
        text += "\n".join(lines) + "\n"
        exec(compile(text, "<symmetry permutation>", "exec"), ns)
        return ns["perm"], ns["below"]  # type: ignore[return-value]

    def canonical(self) -> Callable[[bytes], bytes]:
        """The least image of a state under the group."""
        fs = self.below[1:]
        if not fs:
            return lambda s: s
        if len(fs) == 1:
            f = fs[0]

            def canon1(s: bytes) -> bytes:
                t = f(s, s)
                return s if t is None else t
            return canon1

        def canon(s: bytes) -> bytes:
            best = s
            for g in fs:
                t = g(s, best)
                if t is not None:
                    best = t
            return best
        return canon


def of_model(model: Model) -> Symmetry:
    """The symmetry of a built model: servers together; workers by their ops list."""
    roles: list[tuple[str, object]] = []
    ops = dict(zip([t.index for t in model.workers], model.params.ops, strict=True))
    for t in model.tasks:
        roles.append((t.role, ops.get(t.index)))
    return Symmetry(model.spec, [t.index for t in model.workers], groups(roles))
