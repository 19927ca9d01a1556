"""The UMCG versions that have a model, and how to build each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model import v0_2, v0_2_futex, v0_2_idle_futex, v0_3


@dataclass(frozen=True)
class Version:
    name: str
    build: Callable[..., v0_2.Model]
    summary: str
    source: str = ""


VERSIONS: dict[str, Version] = {
    "v0.2": Version("v0.2", v0_2.build,
                    "RFC v0.2 (2021-07-08): sys_umcg_ctl/sys_umcg_wait, hooks in "
                    "sched_submit_work/sched_update_worker, lock-bit user stacks",
                    "Oskolkov, 20210708194638.128950-{3,4}-posk@google.com"),
    v0_2_futex.VERSION: Version(
        v0_2_futex.VERSION, v0_2_futex.build,
        "v0.2 with WAIT/WAKE done by FUTEX_WAIT/FUTEX_WAKE (UMCG_WAIT_WAKE_ONLY gone; "
        "block/wake detection do the rest; SWAP stays sys_umcg_wait)",
        "Delisle, Re: [RFC PATCH 3/3 v0.2], 2021-07-12, "
        "acad5960-30b2-3693-9117-e0b054ee97a7@uwaterloo.ca"),
    v0_2_idle_futex.VERSION: Version(
        v0_2_idle_futex.VERSION, v0_2_idle_futex.build,
        "v0.2 with the idle-servers list replaced by a counter (idle_futex_ptr): the kernel "
        "decrements it and FUTEX_WAKEs a server; idle servers increment it and FUTEX_WAIT",
        "Delisle, Re: [RFC PATCH 3/3 v0.2], 2021-07-12, "
        "acad5960-30b2-3693-9117-e0b054ee97a7@uwaterloo.ca"),
    "v0.3": Version("v0.3", v0_3.build,
                    "RFC v0.3 (2021-07-16): bounded umcg_sll_push, mark-deleted umcg_sll_pop "
                    "with user-space GC, idle loop re-checks the state after "
                    "set_current_state, single ttwu with the result ignored",
                    "Oskolkov, 20210716184719.269033-{4,5}-posk@google.com"),
}
