"""UMCG RFC v0.2 model, common parts: constants, citations, parameters, labels.

UMCG RFC v0.2 (Oskolkov, 2021-07-08): kernel, user-space protocol and environment.

Sources: patch 3/3 ``20210708194638.128950-4-posk@google.com`` (kernel/sched/umcg.c,
include/uapi/linux/umcg.h, kernel/sched/core.c hooks) and patch 2/3
``20210708194638.128950-3-posk@google.com`` (kernel/sched/umcg.h stack helpers);
semantics.md §2.  Decisions where the sources are silent: docs/model-v0.2.md.

Atomicity (design.md): one action is one user-memory access (load, store, xchg,
cmpxchg), one set_current_state, one schedule() decision or one try_to_wake_up.
Accesses to task-private data (the caller's own next_tid, PF_UMCG_WORKER, the
kernel's own locals) are folded into the neighbouring step: no other task can
observe them, so folding removes no interleaving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from model.lang import (
    And,
    Cite,
    Expr,
    Spec,
    Var,
)

VERSION = "v0.2"
KFILE = "kernel/sched/umcg.c"
HFILE = "kernel/sched/umcg.h"
CORE = "kernel/sched/core.c"
USER = "user space (semantics §2.10)"
ENVF = "environment"

# State word: the state byte (NONE/RUNNING/IDLE/BLOCKED) plus UMCG_TF_LOCKED.
# LOCKED is bit 8 (0x100) in the patch; the model keeps it as bit 2 so the word fits 0..7.
NONE, RUNNING, IDLE, BLOCKED = 0, 1, 2, 3
LOCKED = 4
STATE_NAMES = ("NONE", "RUNNING", "IDLE", "BLOCKED",
               "NONE|LOCKED", "RUNNING|LOCKED", "IDLE|LOCKED", "BLOCKED|LOCKED")

# Kernel task state (task_struct::__state) as far as UMCG cares.
K_RUNNING, K_INTERRUPTIBLE, K_UNINTERRUPTIBLE = 0, 1, 2

# Return values of syscalls as seen by user space.
ERRNO = ("0", "-EINTR", "-EAGAIN", "-ESRCH", "-EINVAL", "-EFAULT")
OK, EINTR, EAGAIN, ESRCH, EINVAL, EFAULT = range(6)

IO_NONE, IO_PENDING, IO_DONE = 0, 1, 2

OPS = ("block", "yield", "swap", "wake")


def K(function: str, step: str, section: str = "§2.8", file: str = KFILE) -> Cite:
    return Cite(VERSION, file, function, step, section)


def U(what: str, step: str, section: str = "§2.10") -> Cite:
    return Cite(VERSION, USER, what, step, section)


def E(what: str, step: str, section: str = "§2.7") -> Cite:
    return Cite(VERSION, ENVF, what, step, section)


@dataclass(frozen=True)
class Params:
    """What a configuration chooses for a v0.2 model."""

    servers: int = 1
    workers: int = 2
    ops: tuple[tuple[str, ...], ...] = (("block",), ("yield",))
    lock_before_wait: bool = False
    server_recheck: bool = True
    signals: int = 0
    preemptions: int = 0
    cpus: int = 0  # 0: every task has a CPU

    def __post_init__(self) -> None:
        if len(self.ops) != self.workers:
            raise ValueError("ops must list one operation sequence per worker")


@dataclass
class Task:
    index: int
    name: str
    role: str  # "server" | "worker"

    @property
    def tid(self) -> int:
        return self.index + 1


@dataclass
class Model:
    """A built v0.2 model: the spec plus what engines and properties need to read it."""

    spec: Spec
    params: Params
    tasks: list[Task]
    labels: list[str]
    kernel_labels: range
    v: dict[str, list[Var]]  # per-task variables by field name
    g: dict[str, Var]  # global variables
    addr_names: list[str]
    finished: Expr  # every worker has run its workload to the end
    fmt: Callable[[Var, int], str] = field(repr=False, default=lambda v, x: str(x))

    @property
    def servers(self) -> list[Task]:
        return [t for t in self.tasks if t.role == "server"]

    @property
    def workers(self) -> list[Task]:
        return [t for t in self.tasks if t.role == "worker"]

    def pc(self, t: int) -> Var:
        return self.v["pc"][t]

    def in_user(self, t: int) -> Expr:
        """Task t executes user-space code (not in the kernel, not finished)."""
        return self.pc(t) < self.kernel_labels.start

    def in_kernel(self, t: int) -> Expr:
        k = self.kernel_labels
        return And(self.pc(t) >= k.start, self.pc(t) < k.stop)


# --------------------------------------------------------------------------- labels


class Labels:
    """Program-counter labels.  Built in two passes so that user-space labels get
    the low numbers, kernel labels a contiguous range after them, then done/dead."""

    def __init__(self, order: list[str] | None = None) -> None:
        self.order = order
        self.seen: dict[str, None] = {}

    def __call__(self, name: str) -> int:
        self.seen.setdefault(name, None)
        if self.order is None:
            return 0
        return self.order.index(name)

    @staticmethod
    def sort(names: list[str]) -> list[str]:
        user = [n for n in names if n.startswith("u:")]
        kern = [n for n in names if n.startswith("k:")]
        rest = [n for n in names if not (n.startswith("u:") or n.startswith("k:"))]
        # Label 0 is "-": the value of a return-address local that holds nothing.
        return ["-"] + user + kern + sorted(r for r in rest if r != "-")


