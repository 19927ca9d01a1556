"""UMCG RFC v0.3 (Oskolkov, 2021-07-16): what differs from v0.2, and its citations.

Sources: patch 4/4 ``20210716184719.269033-5-posk@google.com`` (kernel/sched/umcg.c:
umcg_idle_loop, umcg_ttwu, umcg_do_context_switch, sys_umcg_wait, try_to_wake_server,
umcg_wq_worker_running) and patch 3/4 ``20210716184719.269033-4-posk@google.com``
(kernel/sched/umcg.h: umcg_sll_push, umcg_sll_pop); semantics.md §3.
"""

from __future__ import annotations

from model.lang import Cite

VERSION = "v0.3"
KFILE = "kernel/sched/umcg.c"
HFILE = "kernel/sched/umcg.h"
USER = "user space (semantics §2.10, §3)"


def K3(function: str, step: str, section: str = "§3", file: str = KFILE) -> Cite:
    return Cite(VERSION, file, function, step, section)


def U3(what: str, step: str, section: str = "§3") -> Cite:
    return Cite(VERSION, USER, what, step, section)


def max_tries(n_tasks: int, cpus: int) -> int:
    """nr_cpu_ids * 2, the bound umcg_wq_worker_running passes to both list helpers.
    With unbounded CPUs (cpus = 0) every task has one, so nr_cpu_ids = the task count."""
    return 2 * (cpus or n_tasks)
