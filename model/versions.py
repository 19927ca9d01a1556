"""The UMCG versions that have a model, and how to build each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model import v0_2


@dataclass(frozen=True)
class Version:
    name: str
    build: Callable[..., v0_2.Model]
    summary: str


VERSIONS: dict[str, Version] = {
    "v0.2": Version("v0.2", v0_2.build,
                    "RFC v0.2 (2021-07-08): sys_umcg_ctl/sys_umcg_wait, hooks in "
                    "sched_submit_work/sched_update_worker, lock-bit user stacks"),
}
