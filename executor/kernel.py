"""The kernel emulation: task_struct, set_current_state, the sleep inside schedule(),
try_to_wake_up, signals, and the turn-taking that makes real threads reproducible.

Every atomic step of a task thread is bracketed by `gate` (wait for this task's turn) and
`done` (record (task, action, state after) and give the turn back).  A controller picks
which waiting thread steps next; a thread asleep in schedule() really blocks on the
kernel's condition variable until try_to_wake_up (or a signal) makes it runnable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from executor.memory import (
    ISH_ADDR,
    IWH_ADDR,
    OFF_IDLE_SERVERS_PTR,
    OFF_IDLE_WORKERS_PTR,
    OFF_NEXT_TID,
    OFF_SERVER_TID,
    OFF_STATE,
    RUNQ_ADDR,
    UMCG_TASK_IDLE,
    UMCG_TASK_RUNNING,
    Memory,
    umcg_task_addr,
)

TASK_RUNNING = "TASK_RUNNING"
TASK_INTERRUPTIBLE = "TASK_INTERRUPTIBLE"
TASK_UNINTERRUPTIBLE = "TASK_UNINTERRUPTIBLE"

# errno values as sys_umcg_wait returns them
EINTR, EAGAIN, ESRCH, EINVAL, EFAULT = -4, -11, -3, -22, -14

TID_BASE = 1000  # TIDs are not indices: the vocabulary maps them back to task names

FRAME_FIELDS = ("prev", "first", "next", "head", "tid", "tgt", "rv")


class Stopped(BaseException):
    """Raised in a task thread to unwind it when the execution ends."""


class Killed(BaseException):
    """The task's process is gone: umcg_die() (SIGSEGV) or the user program aborted."""


class ExecutorError(Exception):
    """The executor itself went wrong (a Python error in a task thread)."""


class Hang(Exception):
    """The threads stopped making progress without the execution having ended."""


@dataclass
class Frame:
    """What a task's code in flight holds besides its program position: the C locals that
    outlive one step (`prev` of a cmpxchg, `first`/`next`/`head` of the stack helpers,
    target TIDs, a syscall's return value) and the return points of a syscall and of
    schedule().  A local that is no longer needed is reset to 0, as it goes out of scope."""

    pc: str = ""
    prev: int = 0
    first: int = 0
    next: int = 0
    head: int = 0
    tid: int = 0
    tgt: int = 0
    rv: int = 0
    ret_sys: str = "-"
    ret_k: str = "-"


@dataclass
class TaskStruct:
    index: int
    name: str
    role: str  # "server" | "worker"
    tid: int
    ops: tuple[str, ...] = ()
    kstate: str = TASK_RUNNING  # task_struct::__state
    sigpending: bool = False
    io: str = "none"            # the blocking I/O a worker waits for: none/pending/done
    umcg_task: int = 0          # current->umcg_task (user address) or 0
    pf_umcg_worker: bool = False
    exited: bool = False        # do_exit: find_task_by_vpid no longer finds it
    on_cpu: bool = False        # bounded CPUs only: the task holds a CPU
    fresh: bool = False         # switched in and no step taken yet (a slice is never empty)
    frame: Frame = field(default_factory=Frame)
    # turn-taking (not task state)
    where: str = "new"          # new | moving | gate | running | asleep | exited
    preempt_pending: bool = False
    last: str = ""

    @property
    def addr(self) -> int:
        return umcg_task_addr(self.index)

    @property
    def state_addr(self) -> int:
        return self.addr + OFF_STATE

    @property
    def server_tid_addr(self) -> int:
        return self.addr + OFF_SERVER_TID

    @property
    def next_tid_addr(self) -> int:
        return self.addr + OFF_NEXT_TID

    @property
    def idle_workers_ptr(self) -> int:
        return self.addr + OFF_IDLE_WORKERS_PTR

    @property
    def idle_servers_ptr(self) -> int:
        return self.addr + OFF_IDLE_SERVERS_PTR

    def in_kernel(self) -> bool:
        return self.frame.pc.startswith("k:")


@dataclass
class Options:
    """What a configuration chooses that the user programs and the environment need."""

    servers: int = 1
    ops: tuple[tuple[str, ...], ...] = (("block",), ("yield",))
    lock_before_wait: bool = False
    server_recheck: bool = True
    signals: int = 0
    preemptions: int = 0
    cpus: int = 0  # 0: every task has its own CPU
    workload: str | None = None  # a program of executor/workloads.py instead of `ops`


@dataclass
class Record:
    task: str
    action: str
    state: dict[str, Any]


class Kernel:
    """Tasks, user memory, the kernel's scheduler primitives and the turn-taking."""

    def __init__(self, opts: Options, timeout: float = 2.0) -> None:
        self.opts = opts
        self.mem = Memory()
        self.tasks: list[TaskStruct] = []
        for i in range(opts.servers):
            self.tasks.append(TaskStruct(i, f"S{i}", "server", TID_BASE + i))
        for j, ops in enumerate(opts.ops):
            i = opts.servers + j
            self.tasks.append(TaskStruct(i, f"W{j}", "worker", TID_BASE + i, tuple(ops)))
        self.by_tid = {t.tid: t for t in self.tasks}
        self.died: TaskStruct | None = None
        self.aborted: TaskStruct | None = None
        self.signals_left = opts.signals
        self.preemptions_left = opts.preemptions
        self.free_cpus = opts.cpus
        self.cv = threading.Condition()
        self.turn: TaskStruct | None = None
        self.stop = False
        self.timeout = timeout
        self.records: list[Record] = []
        self.errors: list[str] = []
        self.chooser: Callable[[TaskStruct, str, list[Any]], Any] = lambda t, key, opts_: opts_[0]
        self.snapshot: Callable[[Kernel], dict[str, Any]] = lambda k: {}
        self._init_memory()

    def _init_memory(self) -> None:
        m = self.mem
        for t in self.tasks:
            # What the programs write before sys_umcg_ctl(REGISTER) (semantics §2.10): a
            # server RUNNING with its own TID in server_tid, a worker IDLE with both list
            # fields pointing at the heads.
            m.store(t.addr + 4, 1)  # api_version
            if t.role == "server":
                m.store(t.state_addr, UMCG_TASK_RUNNING)
                m.store(t.server_tid_addr, t.tid)
            else:
                m.store(t.state_addr, UMCG_TASK_IDLE)
                m.store(t.idle_workers_ptr, IWH_ADDR)
                m.store(t.idle_servers_ptr, ISH_ADDR)
        m.store(IWH_ADDR, 0)
        m.store(ISH_ADDR, 0)
        m.store(RUNQ_ADDR, 0)
        for t in self.tasks:
            t.frame.pc = "u:srv.register" if t.role == "server" else "u:wrk.register"

    @property
    def workers(self) -> list[TaskStruct]:
        return [t for t in self.tasks if t.role == "worker"]

    @property
    def servers(self) -> list[TaskStruct]:
        return [t for t in self.tasks if t.role == "server"]

    def worker_bit(self, t: TaskStruct) -> int:
        return 1 << (t.index - self.opts.servers)

    def halted(self) -> bool:
        return self.died is not None or self.aborted is not None

    # ------------------------------------------------------------------ turn-taking
    def _check_stop(self) -> None:
        if self.stop:
            raise Stopped

    def gate(self, t: TaskStruct) -> None:
        """Wait for this task's turn to take its next atomic step.

        A preemption requested meanwhile (env.preempt, at a user-space label) runs here:
        the return to user mode calls schedule() with TASK_RUNNING, whose
        sched_update_worker runs umcg_wq_worker_running (§2.7); then the thread waits
        again for its turn at the same label."""
        while True:
            with self.cv:
                while True:
                    self._check_stop()
                    if t.preempt_pending:
                        t.preempt_pending = False
                        t.where = "moving"
                        break
                    if self.turn is t:
                        t.where = "running"
                        return
                    if t.where != "gate":
                        t.where = "gate"
                        self.cv.notify_all()
                    self.cv.wait()
            from executor.umcg import umcg_wq_worker_running
            umcg_wq_worker_running(self, t)

    def done(self, t: TaskStruct, action: str, pc: str, **frame: Any) -> None:
        """End of an atomic step: set the program position and the locals it changed,
        record (task, action, state after), give the turn back."""
        f = t.frame
        f.pc = pc
        t.fresh = False
        for k, v in frame.items():
            setattr(f, k, v)
        with self.cv:
            t.last = f"{action} -> {pc}"
            self.records.append(Record(t.name, action, self.snapshot(self)))
            self.turn = None
            t.where = "moving"
            self.cv.notify_all()

    def die(self, t: TaskStruct, action: str, **frame: Any) -> None:
        """umcg_die(): force_sig(SIGSEGV); its default action ends the whole process."""
        self.died = t
        self.done(t, action, "dead", **frame)
        raise Killed

    def abort(self, t: TaskStruct, action: str, **frame: Any) -> None:
        """The user program met something its protocol has no answer for: abort()."""
        self.aborted = t
        self.done(t, action, "dead", **frame)
        raise Killed

    def choose(self, t: TaskStruct, key: str, options: list[Any]) -> Any:
        """A choice the user-space scheduler's policy makes (which ready worker to run)."""
        return self.chooser(t, key, options)

    # ------------------------------------------------------------ scheduler primitives
    def set_current_state(self, t: TaskStruct, state: str) -> None:
        with self.cv:
            t.kstate = state

    def runnable(self, t: TaskStruct) -> bool:
        # __schedule() does not deactivate an interruptible task with a signal pending
        # (signal_pending_state); otherwise it sleeps until ttwu makes it TASK_RUNNING.
        return t.kstate == TASK_RUNNING or (t.sigpending and t.kstate == TASK_INTERRUPTIBLE)

    def release_cpu(self, t: TaskStruct) -> None:
        """The task gives its CPU back (bounded CPUs only): asleep, preempted or exited."""
        if self.opts.cpus:
            t.on_cpu = False
            self.free_cpus += 1

    def sleep(self, t: TaskStruct) -> None:
        """__schedule() at a sleep point (the task is at its gate already): deactivate the
        task unless it is runnable; the OS thread blocks until it is.  Returns holding the
        turn for the step that follows the wake-up.

        With bounded CPUs, deactivate_task is a step of its own (the CPU is freed) and the
        woken task waits for the CPU scheduler to switch it in."""
        if not self.opts.cpus:
            self._wait_runnable(t)
            self.gate(t)
            return
        while True:
            self.gate(t)
            if self.runnable(t):
                return
            self.release_cpu(t)
            # __schedule: deactivate_task(), the CPU is free
            self.done(t, "__schedule.deactivate_task", t.frame.pc)
            self._wait_runnable(t)

    def _wait_runnable(self, t: TaskStruct) -> None:
        with self.cv:
            while not self.runnable(t):
                self._check_stop()
                if t.where != "asleep":
                    t.where = "asleep"
                    self.cv.notify_all()
                self.cv.wait()
            self._check_stop()
            t.where = "moving"
            self.cv.notify_all()

    def try_to_wake_up(self, p: TaskStruct) -> bool:
        """ttwu(p, TASK_NORMAL): wakes p only if it is not TASK_RUNNING; says whether."""
        with self.cv:
            if p.kstate == TASK_RUNNING:
                return False
            p.kstate = TASK_RUNNING
            self.cv.notify_all()
            return True

    def send_signal(self, p: TaskStruct) -> None:
        """tgkill(p): a task in user space runs its handler at once (nothing UMCG sees);
        a task in the kernel gets it pending, and signal_wake_up() wakes it if it sleeps
        interruptibly (docs/model-v0.2.md decision 5)."""
        with self.cv:
            if p.in_kernel():
                p.sigpending = True
            if p.kstate == TASK_INTERRUPTIBLE:
                p.kstate = TASK_RUNNING
            self.cv.notify_all()

    def find_task_by_vpid(self, tid: int) -> TaskStruct | None:
        t = self.by_tid.get(tid)
        return None if t is None or t.exited else t
