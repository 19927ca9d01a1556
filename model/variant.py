"""Helpers for versions built as a delta of the v0.2 builder (model/v0_3, model/v0_2_futex,
model/v0_2_idle_futex): drop the v0.2 actions a version replaces, re-cite the ones it keeps."""

from __future__ import annotations

import dataclasses

from model.lang import Spec


def drop_actions(spec: Spec, task: int, names: set[str]) -> None:
    """Remove task's actions with these names (the version replaces them); renumber."""
    kept = [a for a in spec.actions if not (a.task == task and a.name in names)]
    for i, a in enumerate(kept):
        a.index = i
    spec.actions[:] = kept


def recite(spec: Spec, old: str, new: str) -> None:
    """Actions inherited unchanged: the same code is in version `new` (checked by hand
    against its patch text, docs/model-<version>.md), so they cite it."""
    for a in spec.actions:
        if a.source.version == old:
            a.source = dataclasses.replace(a.source, version=new)
