"""Counterexample traces: the steps of a path, what changed, and their ITF form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import itf_py

from checker.files import InputFileError, read_json, write_atomic
from model.lang import Spec, Var


@dataclass
class Step:
    index: int
    task: str
    action: str
    actor: str
    citation: str
    params: dict[str, int]
    changed: list[tuple[str, str, str]]  # (variable, before, after)


def steps(spec: Spec, fmt, path: list[tuple[int, bytes]]) -> list[Step]:
    """Turn [(action index, state)] into display steps (step 0 is the initial state)."""
    out = []
    for k in range(1, len(path)):
        aid, s = path[k]
        prev = path[k - 1][1]
        a = spec.actions[aid]
        changed = [(v.name, fmt(v, prev[v.slot]), fmt(v, s[v.slot]))
                   for v in spec.vars if prev[v.slot] != s[v.slot]]
        task = spec.task_names[a.task] if a.task is not None else "-"
        params = {k2: v2 for k2, v2 in a.params.items()}
        out.append(Step(k, task, a.name, a.actor, str(a.source), params, changed))
    return out


def itf_value(v: Var, x: int, fmt) -> Any:
    """How a variable's value is written in an ITF trace."""
    if v.domain.kind == "bool":
        return bool(x)
    if v.domain.kind in ("int", "mask"):
        return x
    return fmt(v, x)


def itf_trace(spec: Spec, fmt, path: list[tuple[int, bytes]], meta: dict[str, Any],
              loop: int | None = None) -> dict[str, Any]:
    """An ITF (Apalache/Quint Informal Trace Format) document for the path.

    Every state records each model variable, plus `action_taken` and `task` for the step
    that led to it ("init" for the first state)."""
    names = [v.name for v in spec.vars]
    states = []
    for k, (aid, s) in enumerate(path):
        values: dict[str, Any] = {}
        if aid < 0:
            values["action_taken"] = "init"
            values["task"] = ""
        else:
            a = spec.actions[aid]
            values["action_taken"] = a.name
            values["task"] = spec.task_names[a.task] if a.task is not None else ""
        for v in spec.vars:
            values[v.name] = itf_value(v, s[v.slot], fmt)
        states.append(itf_py.State(meta={"index": k}, values=values))
    trace = itf_py.Trace(meta=dict(meta, format="ITF", source="umcg-check"), params=[],
                         vars=["action_taken", "task"] + names, states=states, loop=loop)
    return itf_py.trace_to_json(trace)


class ItfFileError(InputFileError):
    """An ITF trace file that cannot be read (bad input: exit 2)."""


def read_itf(path: str, label: str) -> dict[str, Any]:
    """The ITF document in `path`; `label` names it in the error (e.g. "--trace x.json")."""
    doc = read_json(path, label)
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise ItfFileError(f"{label}: not an ITF trace (no \"states\" list)")
    return doc


def write_json_atomic(path: str, doc: Any) -> None:
    """Write JSON so that a reader never sees a partial file."""
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())
