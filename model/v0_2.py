"""UMCG RFC v0.2 (Oskolkov, 2021-07-08): kernel, user-space protocol and environment.

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
    BOOL,
    And,
    Cite,
    Domain,
    Expr,
    Ite,
    Not,
    Or,
    Spec,
    Var,
    enum,
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


# --------------------------------------------------------------------------- builder


class Builder:
    def __init__(self, p: Params, labels: Labels) -> None:
        self.p = p
        self.L = labels
        self.spec = Spec(f"umcg-{VERSION}")
        n = p.servers + p.workers
        self.n = n
        self.tasks = [Task(i, f"S{i}", "server") for i in range(p.servers)] + [
            Task(p.servers + j, f"W{j}", "worker") for j in range(p.workers)]
        self.workers = [t.index for t in self.tasks if t.role == "worker"]
        self.servers = [t.index for t in self.tasks if t.role == "server"]
        # User-memory addresses of the pointer-sized words: the two list heads and,
        # per task, &umcg_task.idle_workers_ptr and &umcg_task.idle_servers_ptr.
        self.IWH, self.ISH = 1, 2
        self.addr_names = ["NULL", "IWH", "ISH"]
        for t in self.tasks:
            self.addr_names += [f"{t.name}.idle_workers_ptr", f"{t.name}.idle_servers_ptr"]
        self.naddr = len(self.addr_names)
        self.task_labels: dict[int, set[str]] = {}
        self._calls: set[tuple[int, str]] = set()
        self.kernel_range = (0, 0)
        self._declare()

    # addresses and pointer values ------------------------------------------------
    def wnode(self, t: int) -> int:
        return 3 + 2 * t

    def snode(self, t: int) -> int:
        return 4 + 2 * t

    @staticmethod
    def ptr(addr: int) -> int:
        # A pointer value is the address with bit 0 free: v0.2 uses bit 0 of a head as its lock.
        return addr << 1

    def worker_of_wnode(self, addr: int) -> int | None:
        for w in self.workers:
            if self.wnode(w) == addr:
                return w
        return None

    # variables -----------------------------------------------------------------
    def _declare(self) -> None:
        s, p, n = self.spec, self.p, self.n
        names = [t.name for t in self.tasks]
        owners = list(range(n))
        word = Domain(0, 7, STATE_NAMES, "word")
        tid = Domain(0, n, ("0",) + tuple(names), "task")
        ptr = Domain(0, 2 * (self.naddr - 1) + 1, None, "ptr")
        kst = enum("TASK_RUNNING", "TASK_INTERRUPTIBLE", "TASK_UNINTERRUPTIBLE")
        self.pc_domain = Domain(0, 255, None, "pc")  # narrowed after the build

        def per_task(field_: str, dom: Domain, inits: list[int], group: str) -> list[Var]:
            arr = s.array(field_, dom, inits, owners=owners, group=group,
                          labels=names)
            for t, v in zip(self.tasks, arr.elems, strict=True):
                v.name = f"{t.name}.{field_}"
            return arr.elems

        V: dict[str, list[Var]] = {}
        # struct umcg_task words in user memory (uapi §2.1)
        V["state"] = per_task("state", word, [RUNNING if t.role == "server" else IDLE
                                              for t in self.tasks], "user")
        # A server's server_tid holds its own TID (field doc of server_tid, §2.2).
        V["server_tid"] = per_task("server_tid", tid, [t.tid if t.role == "server" else 0
                                                       for t in self.tasks], "user")
        V["next_tid"] = per_task("next_tid", tid, [0] * n, "user")
        mem_init = [0] * self.naddr
        for w in self.workers:
            # Worker registration (§2.10): idle_workers_ptr = &IWH, idle_servers_ptr = &ISH.
            mem_init[self.wnode(w)] = self.ptr(self.IWH)
            mem_init[self.snode(w)] = self.ptr(self.ISH)
        mem = s.array("mem", ptr, mem_init, labels=self.addr_names, group="user")
        for a, v in enumerate(mem.elems):
            v.name = self.addr_names[a] if a else "NULL"
            if a:
                v.owner = None if a < 3 else (a - 3) // 2
        self.mem = mem.elems
        g: dict[str, Var] = {}
        # The user-space scheduler's ready set (one bit per worker): not in the patch.
        g["runq"] = s.var("runq", Domain(0, (1 << p.workers) - 1, None, "mask"), 0, group="user")
        # kernel-side per-task state
        V["registered"] = per_task("umcg_task", BOOL, [0] * n, "kernel")
        V["pf"] = per_task("PF_UMCG_WORKER", BOOL, [0] * n, "kernel")
        V["kstate"] = per_task("__state", kst, [0] * n, "kernel")
        V["sigpending"] = per_task("sigpending", BOOL, [0] * n, "kernel")
        V["io"] = per_task("io", enum("none", "pending", "done"), [0] * n, "kernel")
        # program counters and the locals of the code in flight (dead locals are 0)
        V["pc"] = per_task("pc", self.pc_domain, [0] * n, "local")
        V["prev"] = per_task("prev", word, [0] * n, "local")
        V["first"] = per_task("first", ptr, [0] * n, "local")
        V["nxt"] = per_task("next", ptr, [0] * n, "local")
        V["head"] = per_task("head", ptr, [0] * n, "local")
        V["tid"] = per_task("tid", tid, [0] * n, "local")
        V["tgt"] = per_task("tgt", tid, [0] * n, "local")
        V["rv"] = per_task("rv", enum(*ERRNO), [0] * n, "local")
        V["ret_sys"] = per_task("ret_sys", self.pc_domain, [0] * n, "local")
        V["ret_k"] = per_task("ret_k", self.pc_domain, [0] * n, "local")
        # outcomes and environment budgets
        g["died"] = s.var("umcg_die", Domain(0, n, ("no",) + tuple(names), "task"), 0, group="env")
        g["aborted"] = s.var("user_abort", Domain(0, n, ("no",) + tuple(names), "task"), 0,
                             group="env")
        g["sig_left"] = s.var("signals_left", Domain(0, p.signals), p.signals, group="env")
        g["pre_left"] = s.var("preemptions_left", Domain(0, p.preemptions), p.preemptions,
                              group="env")
        self.V, self.g = V, g
        s.pc_vars = V["pc"]
        s.task_names = names
        s.halt = Or(g["died"] != 0, g["aborted"] != 0)

    # helpers -----------------------------------------------------------------------
    def act(self, name: str, t: int, actor: str, at: str, guard: object, effect: dict,
            goto: str | Expr | None, cite: Cite, **params: int) -> None:
        self.task_labels.setdefault(t, set()).add(at)
        eff = dict(effect)
        if goto is not None:
            eff[self.V["pc"][t]] = self.L(goto) if isinstance(goto, str) else goto
        self.spec.action(name, task=t, actor=actor,
                         guard=And(self.V["pc"][t] == self.L(at), guard),
                         effect=eff, source=cite, **params)

    def die(self, t: int) -> dict:
        # umcg_die(): force_sig(SIGSEGV).  SIGSEGV's default action ends the process,
        # so the model halts (docs/model-v0.2.md, "umcg_die").
        return {self.g["died"]: t + 1, self.V["pc"][t]: self.L("dead")}

    def abort(self, t: int) -> dict:
        return {self.g["aborted"]: t + 1, self.V["pc"][t]: self.L("dead")}

    def ret_to_user(self, t: int, rv: int | Expr) -> dict:
        """Syscall exit: pending signals are delivered on the way back to user space."""
        V = self.V
        return {V["rv"][t]: rv, V["pc"][t]: V["ret_sys"][t], V["ret_sys"][t]: 0,
                V["sigpending"][t]: 0}

    def ttwu(self, u: int) -> dict:
        return {self.V["kstate"][u]: K_RUNNING}

    def asleep(self, u: int) -> Expr:
        # try_to_wake_up(p, TASK_NORMAL, ...) succeeds iff p->__state is not TASK_RUNNING.
        return self.V["kstate"][u] != K_RUNNING

    def byte(self, t: int) -> Expr:
        return self.V["state"][t] & 3

    def locked(self, t: int) -> Expr:
        return (self.V["state"][t] & LOCKED) != 0

    def label_kind(self, name: str) -> str:
        return "kernel" if name.startswith("k:") else "user"

    # --------------------------------------------------------------- stack helpers
    def stack_push(self, t: int, pre: str, actor: str, heads: list[int], node: int,
                   done: str, done_eff: dict, cite_fn: Callable[[str], Cite]) -> None:
        """atomic_stack_push_user(head, node) (§2.4), the head address in local `head`."""
        V, mem = self.V, self.mem
        head, first = V["head"][t], V["first"][t]
        fn = "atomic_stack_push_user" if actor == "K" else "server.idle_push"
        for h in heads:
            hv = self.ptr(h)
            # 1. read first = *head; 2. head locked by a concurrent pop: cpu_relax, retry.
            self.act(f"{fn}.head_locked_spin", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 1), {}, f"{pre}.read",
                     cite_fn("steps 1-2: first & 1, cpu_relax"), head=h)
            self.act(f"{fn}.read_head", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 0), {first: mem[h]}, f"{pre}.write",
                     cite_fn("step 1: get_user(first, head)"), head=h)
        # 3. *node = first
        self.act(f"{fn}.write_node", t, actor, f"{pre}.write", 1,
                 {mem[node]: first}, f"{pre}.cas", cite_fn("step 3: put_user(first, node)"))
        for h in heads:
            hv = self.ptr(h)
            eff = {mem[h]: self.ptr(node), first: 0, head: 0}
            eff.update(done_eff)
            self.act(f"{fn}.cmpxchg_ok", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] == first), eff, done,
                     cite_fn("step 4: cmpxchg(head, first, node) == 0"), head=h)
            self.act(f"{fn}.cmpxchg_eagain", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] != first), {first: 0}, f"{pre}.read",
                     cite_fn("step 4: -EAGAIN, retry"), head=h)

    def stack_pop(self, t: int, pre: str, actor: str, heads: list[int], done: str,
                  fail: Callable[[], dict], cite_fn: Callable[[str], Cite]) -> None:
        """atomic_stack_pop_user(head, &value) (§2.4); leaves the popped pointer in `first`."""
        V, mem = self.V, self.mem
        head, first, nxt = V["head"][t], V["first"][t], V["nxt"][t]
        fn = "atomic_stack_pop_user" if actor == "K" else "server.undo_pop"
        for h in heads:
            hv = self.ptr(h)
            self.act(f"{fn}.empty", t, actor, f"{pre}.read",
                     And(head == hv, mem[h] == 0), {first: 0, head: 0}, done,
                     cite_fn("steps 1-2: first == 0, *value = 0"), head=h)
            self.act(f"{fn}.head_locked_spin", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 1), {}, f"{pre}.read",
                     cite_fn("step 3: first & 1, cpu_relax"), head=h)
            self.act(f"{fn}.read_head", t, actor, f"{pre}.read",
                     And(head == hv, mem[h] != 0, (mem[h] & 1) == 0), {first: mem[h]},
                     f"{pre}.lock", cite_fn("step 1: get_user(first, head)"), head=h)
            self.act(f"{fn}.lock_cmpxchg_ok", t, actor, f"{pre}.lock",
                     And(head == hv, mem[h] == first), {mem[h]: first | 1}, f"{pre}.next",
                     cite_fn("step 4: cmpxchg(head, first, first | 1)"), head=h)
            self.act(f"{fn}.lock_cmpxchg_eagain", t, actor, f"{pre}.lock",
                     And(head == hv, mem[h] != first), {first: 0}, f"{pre}.read",
                     cite_fn("step 4: -EAGAIN, retry"), head=h)
        for a in range(1, self.naddr):
            self.act(f"{fn}.read_next", t, actor, f"{pre}.next",
                     (first >> 1) == a, {nxt: mem[a]}, f"{pre}.unlock",
                     cite_fn("step 5: get_user(next, first)"), node=a)
        for h in heads:
            hv = self.ptr(h)
            self.act(f"{fn}.unlock_cmpxchg_ok", t, actor, f"{pre}.unlock",
                     And(head == hv, mem[h] == (first | 1)), {mem[h]: nxt, nxt: 0, head: 0},
                     done, cite_fn("step 6: cmpxchg(head, first | 1, next)"), head=h)
            eff = fail()
            eff.update({nxt: 0})
            self.act(f"{fn}.unlock_cmpxchg_efault", t, actor, f"{pre}.unlock",
                     And(head == hv, mem[h] != (first | 1)), eff, None,
                     cite_fn("step 6: cmpxchg failed, return -EFAULT"), head=h)

    # ------------------------------------------------------------ kernel: per task
    def kernel(self, t: int) -> None:
        """The v0.2 kernel paths a task can run.  Workers get the hooks too."""
        is_worker = t in self.workers
        self.sys_umcg_wait(t)
        self.idle_loop(t)
        self.schedule(t, hooks=is_worker)
        if is_worker:
            self.umcg_wq_worker_sleeping(t)
            self.umcg_wq_worker_running(t)
            self.io_syscall(t)

    def sys_umcg_wait(self, t: int) -> None:
        V, n = self.V, self.n
        reg, nt, st = V["registered"][t], V["next_tid"][t], V["server_tid"][t]
        tgt = V["tgt"][t]
        fn = "sys_umcg_wait"

        def c(step: str) -> Cite:
            return K(fn, step, "§2.6")

        # ---- flags == 0: SWAP to next_tid, the worker's server_tid, or WAIT
        self.act(f"{fn}.einval_not_umcg", t, "K", "k:wait.entry", reg == 0,
                 self.ret_to_user(t, EINVAL), None, c("step 1: self == NULL, -EINVAL"))
        self.act(f"{fn}.swap_next_tid", t, "K", "k:wait.entry", And(reg == 1, nt != 0),
                 {tgt: nt}, "k:wait.ctx", c("step 2: get_user(next_tid); step 6: next_tid != 0"))
        # Step 5: a worker with next_tid == 0 switches to self->server_tid.
        self.act(f"{fn}.worker_to_server_tid", t, "K", "k:wait.entry",
                 And(reg == 1, nt == 0, V["pf"][t] == 1, st != 0), {tgt: st}, "k:wait.ctx",
                 c("step 5: next_tid = self->server_tid"))
        self.act(f"{fn}.wait", t, "K", "k:wait.entry",
                 And(reg == 1, nt == 0, Or(V["pf"][t] == 0, st == 0)), {}, "k:idle.entry",
                 c("step 7: next_tid == 0, umcg_idle_loop"))
        # umcg_do_context_switch: find_task_by_vpid + ttwu(next, WF_CURRENT_CPU)
        for u in range(n):
            # A thread that has exited (pc "done") is no longer found by find_task_by_vpid.
            alive = V["pc"][u] != self.L("done")
            eff = self.ret_to_user(t, ESRCH)
            eff[tgt] = 0
            self.act("umcg_do_context_switch.esrch", t, "K", "k:wait.ctx",
                     And(tgt == u + 1, Not(alive)), eff, None,
                     K("umcg_do_context_switch", "find_task_by_vpid(next_tid) == NULL: -ESRCH",
                       "§2.6"), next=u)
            eff = self.ttwu(u)
            eff[tgt] = 0
            self.act("umcg_do_context_switch.ttwu_ok", t, "K", "k:wait.ctx",
                     And(tgt == u + 1, alive, self.asleep(u)), eff, "k:idle.entry",
                     K("umcg_do_context_switch", "try_to_wake_up(next) != 0", "§2.6"), next=u)
            eff = self.ret_to_user(t, EAGAIN)
            eff[tgt] = 0
            self.act("umcg_do_context_switch.ttwu_failed_eagain", t, "K", "k:wait.ctx",
                     And(tgt == u + 1, alive, Not(self.asleep(u))), eff, None,
                     K("umcg_do_context_switch", "!ttwu_ok: cpu_relax, -EAGAIN", "§2.6"), next=u)
        # ---- UMCG_WAIT_WAKE_ONLY: umcg_do_wake(next_tid); the caller keeps running
        self.act(f"{fn}.wake_only_einval_not_umcg", t, "K", "k:wake.entry", reg == 0,
                 self.ret_to_user(t, EINVAL), None, c("step 1: self == NULL, -EINVAL"))
        self.act(f"{fn}.wake_only_einval_no_next", t, "K", "k:wake.entry",
                 And(reg == 1, nt == 0), self.ret_to_user(t, EINVAL), None,
                 c("step 3: WAKE_ONLY with next_tid == 0, -EINVAL"))
        for u in range(n):
            self.act("umcg_do_wake.esrch", t, "K", "k:wake.entry",
                     And(reg == 1, nt == u + 1, V["registered"][u] == 0),
                     self.ret_to_user(t, ESRCH), None,
                     K("umcg_do_wake", "!next->umcg_task: -ESRCH", "§2.6"), next=u)
            eff = self.ret_to_user(t, OK)
            eff.update(self.ttwu(u))
            self.act("umcg_do_wake.ttwu_ok", t, "K", "k:wake.entry",
                     And(reg == 1, nt == u + 1, V["registered"][u] == 1, self.asleep(u)),
                     eff, None, K("umcg_do_wake", "try_to_wake_up(next) != 0", "§2.6"), next=u)
            self.act("umcg_do_wake.ttwu_failed_eagain", t, "K", "k:wake.entry",
                     And(reg == 1, nt == u + 1, V["registered"][u] == 1,
                         Not(self.asleep(u))),
                     self.ret_to_user(t, EAGAIN), None,
                     K("umcg_do_wake", "!ttwu_ok: cpu_relax, -EAGAIN", "§2.6"), next=u)

    def idle_loop(self, t: int) -> None:
        """umcg_idle_loop(self, 0) as entered from sys_umcg_wait."""
        V = self.V
        st, prev, pf = V["state"][t], V["prev"][t], V["pf"][t]
        fn = "umcg_idle_loop"

        def c(step: str) -> Cite:
            return K(fn, step, "§2.6")

        # Unlock the worker, if locked (get_user, then cmpxchg clearing LOCKED).
        self.act(f"{fn}.not_worker", t, "K", "k:idle.entry", pf == 0, {}, "k:idle.set",
                 c("PF_UMCG_WORKER clear: skip the unlock"))
        self.act(f"{fn}.read_state_unlocked", t, "K", "k:idle.entry",
                 And(pf == 1, (st & LOCKED) == 0), {}, "k:idle.set",
                 c("get_user(state): LOCKED clear"))
        self.act(f"{fn}.read_state_locked", t, "K", "k:idle.entry",
                 And(pf == 1, (st & LOCKED) != 0), {prev: st}, "k:idle.unlock",
                 c("get_user(state): LOCKED set"))
        self.act(f"{fn}.unlock_cmpxchg_ok", t, "K", "k:idle.unlock", st == prev,
                 {st: prev - LOCKED, prev: 0}, "k:idle.set", c("cmpxchg(state, s, s & ~LOCKED)"))
        eff = self.ret_to_user(t, EFAULT)
        eff[prev] = 0
        self.act(f"{fn}.unlock_cmpxchg_failed_efault", t, "K", "k:idle.unlock", st != prev,
                 eff, None, c("cmpxchg failed: -EFAULT"))
        self.act(f"{fn}.set_current_state", t, "K", "k:idle.set", 1,
                 {V["kstate"][t]: K_INTERRUPTIBLE, V["ret_k"][t]: self.L("k:idle.after")},
                 "k:sched.entry", c("set_current_state(TASK_INTERRUPTIBLE); freezable_schedule()"))
        self.act(f"{fn}.signal_pending_eintr", t, "K", "k:idle.after",
                 V["sigpending"][t] == 1, self.ret_to_user(t, EINTR), None,
                 c("signal_pending(current): -EINTR"))
        self.act(f"{fn}.state_running_return", t, "K", "k:idle.after",
                 And(V["sigpending"][t] == 0, self.byte(t) == RUNNING),
                 self.ret_to_user(t, OK), None, c("get_user(state) == RUNNING: return 0"))
        self.act(f"{fn}.state_not_running_loop", t, "K", "k:idle.after",
                 And(V["sigpending"][t] == 0, self.byte(t) != RUNNING), {}, "k:idle.set",
                 c("state != RUNNING: loop"))

    def schedule(self, t: int, hooks: bool) -> None:
        """schedule(): sched_submit_work, __schedule, sched_update_worker (§2.7)."""
        V = self.V
        ks, pf, sig, ret = V["kstate"][t], V["pf"][t], V["sigpending"][t], V["ret_k"][t]

        def c(fn: str, step: str) -> Cite:
            return Cite(VERSION, CORE, fn, step, "§2.7")

        if hooks:
            self.act("sched_submit_work.umcg_wq_worker_sleeping", t, "K", "k:sched.entry",
                     And(ks != K_RUNNING, pf == 1), {}, "k:wqs.read",
                     c("sched_submit_work", "!task_is_running && PF_UMCG_WORKER"))
            self.act("sched_submit_work.skip", t, "K", "k:sched.entry",
                     Or(ks == K_RUNNING, pf == 0), {}, "k:sched.sleep",
                     c("sched_submit_work", "task running or not a UMCG worker"))
        else:
            self.act("sched_submit_work.skip", t, "K", "k:sched.entry", 1, {}, "k:sched.sleep",
                     c("sched_submit_work", "not a UMCG worker"))
        # __schedule: a sleeping task stays put until ttwu makes it TASK_RUNNING; an
        # interruptible one with a signal pending is not deactivated (signal_pending_state).
        runnable = Or(ks == K_RUNNING, And(sig == 1, ks == K_INTERRUPTIBLE))
        if hooks:
            self.act("__schedule.return.umcg_wq_worker_running", t, "K", "k:sched.sleep",
                     And(runnable, pf == 1), {ks: K_RUNNING}, "k:wqr.entry",
                     c("sched_update_worker", "PF_UMCG_WORKER: umcg_wq_worker_running"))
            self.act("__schedule.return", t, "K", "k:sched.sleep", And(runnable, pf == 0),
                     {ks: K_RUNNING, ret: 0}, ret, c("__schedule", "woken: return"))
        else:
            self.act("__schedule.return", t, "K", "k:sched.sleep", runnable,
                     {ks: K_RUNNING, ret: 0}, ret, c("__schedule", "woken: return"))

    def wake_server(self, t: int, pre: str, done: str, fn_caller: str) -> None:
        """wake_server(): cmpxchg(server.state, IDLE, RUNNING) then umcg_do_wake_loop.

        The target TID is in local `tid`; the struct whose state is changed is the
        task `tid` names (caller umcg_wq_worker_sleeping) or the popped server
        (caller umcg_wq_worker_running, kept in local `tgt`)."""
        V, n = self.V, self.n
        tid, tgt = V["tid"][t], V["tgt"][t]
        for u in range(n):
            # The struct: by TID from the sleeping hook, by container_of from the running hook.
            who = tid if fn_caller == "umcg_wq_worker_sleeping" else tgt
            lookup_ok = V["registered"][u] == 1 if fn_caller == "umcg_wq_worker_sleeping" else 1
            if fn_caller == "umcg_wq_worker_sleeping":
                self.act("wake_server.no_umcg_task_die", t, "K", f"{pre}.cmpxchg",
                         And(who == u + 1, V["registered"][u] == 0), self.die(t), None,
                         K("wake_server", "find_task_by_vpid/umcg_task NULL: false, umcg_die"),
                         server=u)
            self.act("wake_server.cmpxchg_idle_running", t, "K", f"{pre}.cmpxchg",
                     And(who == u + 1, lookup_ok, V["state"][u] == IDLE),
                     {V["state"][u]: RUNNING, tgt: 0}, f"{pre}.loop",
                     K("wake_server", "cmpxchg(state, IDLE, RUNNING) == 0"), server=u)
            self.act("wake_server.cmpxchg_failed_die", t, "K", f"{pre}.cmpxchg",
                     And(who == u + 1, lookup_ok, V["state"][u] != IDLE), self.die(t), None,
                     K("wake_server", "cmpxchg(state, IDLE, RUNNING) failed: umcg_die"),
                     server=u)
        self.act("umcg_do_wake_loop.esrch_die", t, "K", f"{pre}.loop", tid == 0, self.die(t),
                 None, K("umcg_do_wake_loop", "find_task_by_vpid(0): -ESRCH, wake_server fails"))
        for u in range(n):
            self.act("umcg_do_wake_loop.esrch_die", t, "K", f"{pre}.loop",
                     And(tid == u + 1, V["registered"][u] == 0), self.die(t), None,
                     K("umcg_do_wake_loop", "umcg_do_wake: -ESRCH, wake_server fails"), server=u)
            eff = self.ttwu(u)
            eff[tid] = 0
            self.act("umcg_do_wake_loop.ttwu_ok", t, "K", f"{pre}.loop",
                     And(tid == u + 1, V["registered"][u] == 1, self.asleep(u)), eff, done,
                     K("umcg_do_wake_loop", "umcg_do_wake: ttwu(server, WF_CURRENT_CPU) ok"),
                     server=u)
            # The spin the cover letter calls a possible soft lockup.
            self.act("umcg_do_wake_loop.ttwu_failed_spin", t, "K", f"{pre}.loop",
                     And(tid == u + 1, V["registered"][u] == 1, Not(self.asleep(u))), {},
                     f"{pre}.loop",
                     K("umcg_do_wake_loop", "-EAGAIN: cpu_relax, continue (TODO: soft lockup)"),
                     server=u)

    def umcg_wq_worker_sleeping(self, t: int) -> None:
        """Block detection, from sched_submit_work with preemption disabled (§2.8)."""
        V = self.V
        st, prev, tid = V["state"][t], V["prev"][t], V["tid"][t]
        fn = "umcg_wq_worker_sleeping"
        wc = "wq_worker_change_state"
        self.act(f"{wc}.sleeping.locked_return", t, "K", "k:wqs.read", (st & LOCKED) != 0, {},
                 "k:sched.sleep", K(wc, "step 2: prev & LOCKED: return false"))
        self.act(f"{wc}.sleeping.not_running_return", t, "K", "k:wqs.read",
                 And((st & LOCKED) == 0, self.byte(t) != RUNNING), {}, "k:sched.sleep",
                 K(wc, "step 3: (prev & 0xff) != RUNNING: return false"))
        self.act(f"{wc}.sleeping.read_running", t, "K", "k:wqs.read",
                 And((st & LOCKED) == 0, self.byte(t) == RUNNING), {prev: st}, "k:wqs.cmpxchg",
                 K(wc, "step 1: umcg_get_user_32(state, &prev)"))
        self.act(f"{wc}.sleeping.cmpxchg_blocked", t, "K", "k:wqs.cmpxchg", st == prev,
                 {st: (prev & LOCKED) | BLOCKED, prev: 0}, "k:wqs.server",
                 K(wc, "steps 5-6: cmpxchg(state, prev, BLOCKED) == 0"))
        self.act(f"{wc}.sleeping.cmpxchg_failed_die", t, "K", "k:wqs.cmpxchg", st != prev,
                 self.die(t), None, K(wc, "step 6: cmpxchg failed: umcg_die"))
        self.act(f"{fn}.no_server", t, "K", "k:wqs.server", V["server_tid"][t] == 0, {},
                 "k:sched.sleep", K(fn, "step 2: server_tid == 0: return"))
        self.act(f"{fn}.read_server_tid", t, "K", "k:wqs.server", V["server_tid"][t] != 0,
                 {tid: V["server_tid"][t]}, "k:wqs.ws.cmpxchg",
                 K(fn, "step 2: umcg_get_user_32(server_tid); wake_server(NULL, server_tid)"))
        self.wake_server(t, "k:wqs.ws", "k:sched.sleep", fn)

    def umcg_wq_worker_running(self, t: int) -> None:
        """Wake detection, from sched_update_worker; may sleep (§2.8, steps 1-4)."""
        V, mem = self.V, self.mem
        st, prev, pf = V["state"][t], V["prev"][t], V["pf"][t]
        head, first, tgt, tid = V["head"][t], V["first"][t], V["tgt"][t], V["tid"][t]
        ret = V["ret_k"][t]
        fn = "umcg_wq_worker_running"
        wc = "wq_worker_change_state"
        # out: current->flags |= PF_UMCG_WORKER; return.  Returning to a user-space label
        # (the preemption path) is an exit to user mode: pending signals are delivered.
        to_user = ret < self.kernel_range[0]
        out = {pf: 1, ret: 0, V["sigpending"][t]: Ite(to_user, 0, V["sigpending"][t])}
        # Step 1 (PF_UMCG_WORKER is cleared first to avoid recursion; private).
        self.act(f"{wc}.running.locked_out", t, "K", "k:wqr.entry", (st & LOCKED) != 0, out, ret,
                 K(wc, "step 2: prev & LOCKED: return false (goto out)"))
        self.act(f"{wc}.running.read_running", t, "K", "k:wqr.entry",
                 And((st & LOCKED) == 0, self.byte(t) == RUNNING), {prev: st, pf: 0},
                 "k:wqr.server", K(wc, "step 1: read prev; step 4: RUNNING, read server_tid"))
        self.act(f"{wc}.running.read_not_running", t, "K", "k:wqr.entry",
                 And((st & LOCKED) == 0, self.byte(t) != RUNNING), {prev: st, pf: 0},
                 "k:wqr.cmpxchg", K(wc, "step 1: umcg_get_user_32(state, &prev)"))
        eff = dict(out)
        eff[prev] = 0
        self.act(f"{wc}.running.pass_through", t, "K", "k:wqr.server", V["server_tid"][t] != 0,
                 eff, ret, K(wc, "step 4: server_tid != 0: pass through (goto out)"))
        self.act(f"{wc}.running.no_server", t, "K", "k:wqr.server", V["server_tid"][t] == 0, {},
                 "k:wqr.cmpxchg", K(wc, "step 4: RUNNING without a server: make IDLE"))
        self.act(f"{wc}.running.cmpxchg_idle", t, "K", "k:wqr.cmpxchg", st == prev,
                 {st: (prev & LOCKED) | IDLE, prev: 0}, "k:wqr.iw_head",
                 K(wc, "steps 5-6: cmpxchg(state, prev, IDLE) == 0"))
        self.act(f"{wc}.running.cmpxchg_failed_die", t, "K", "k:wqr.cmpxchg", st != prev,
                 self.die(t), None, K(wc, "step 6: cmpxchg failed: umcg_die"))
        # Step 2: push &worker.idle_workers_ptr onto *worker.idle_workers_ptr.
        own_w = mem[self.wnode(t)]
        self.act(f"{fn}.idle_workers_ptr_null_die", t, "K", "k:wqr.iw_head", own_w == 0,
                 self.die(t), None, K(fn, "step 2: !head: goto die"))
        self.act(f"{fn}.read_idle_workers_ptr", t, "K", "k:wqr.iw_head", own_w != 0,
                 {head: own_w}, "k:wqr.push.read",
                 K(fn, "step 2: get_user(head, &idle_workers_ptr)"))
        self.stack_push(t, "k:wqr.push", "K", list(range(1, self.naddr)), self.wnode(t),
                        "k:wqr.is_head", {},
                        lambda step: K("atomic_stack_push_user", step, "§2.4", HFILE))
        # Step 3: pop an idle server from *worker.idle_servers_ptr and wake it.
        own_s = mem[self.snode(t)]
        self.act(f"{fn}.idle_servers_ptr_null", t, "K", "k:wqr.is_head", own_s == 0, {},
                 "k:hidle.set", K(fn, "step 3: head == 0: no pop (popped_server uninitialised)"))
        self.act(f"{fn}.read_idle_servers_ptr", t, "K", "k:wqr.is_head", own_s != 0,
                 {head: own_s}, "k:wqr.pop.read",
                 K(fn, "step 3: get_user(head, &idle_servers_ptr)"))
        self.stack_pop(t, "k:wqr.pop", "K", list(range(1, self.naddr)), "k:wqr.popped",
                       lambda: self.die(t),
                       lambda step: K("atomic_stack_pop_user", step, "§2.4", HFILE))
        self.act(f"{fn}.no_idle_server", t, "K", "k:wqr.popped", first == 0, {}, "k:hidle.set",
                 K(fn, "step 3: popped_server == 0"))
        for u in range(self.n):
            # container_of(popped, struct umcg_task, idle_servers_ptr) is task u; wake_server
            # reads that struct's server_tid, which names the task to ttwu.
            self.act("wake_server.read_server_tid", t, "K", "k:wqr.popped",
                     first == self.ptr(self.snode(u)),
                     {first: 0, tgt: u + 1, tid: V["server_tid"][u]}, "k:wqr.ws.cmpxchg",
                     K("wake_server", "get_user(server_tid, &ut_server->server_tid)"), server=u)
        snodes = [self.ptr(self.snode(u)) for u in range(self.n)]
        self.act(f"{fn}.popped_not_a_server_die", t, "K", "k:wqr.popped",
                 And(first != 0, *[first != x for x in snodes]), self.die(t), None,
                 K(fn, "step 3: container_of() of a node that is no idle_servers_ptr"))
        self.wake_server(t, "k:wqr.ws", "k:hidle.set", fn)
        # Step 4: umcg_idle_loop(worker, 0), nested; PF_UMCG_WORKER is clear, so no
        # unlock step and no hooks in its schedule().
        ks, sig = V["kstate"][t], V["sigpending"][t]
        self.act("umcg_idle_loop.nested.set_current_state", t, "K", "k:hidle.set", 1,
                 {ks: K_INTERRUPTIBLE}, "k:hidle.sleep",
                 K(fn, "step 4: umcg_idle_loop: set_current_state(TASK_INTERRUPTIBLE)"))
        runnable = Or(ks == K_RUNNING, And(sig == 1, ks == K_INTERRUPTIBLE))
        eff = dict(out)
        eff[ks] = K_RUNNING
        self.act("umcg_idle_loop.nested.signal_pending_out", t, "K", "k:hidle.sleep",
                 And(runnable, sig == 1), eff, ret,
                 K(fn, "step 4: schedule() returns, signal pending: -EINTR ignored (goto out)"))
        self.act("umcg_idle_loop.nested.state_running_out", t, "K", "k:hidle.sleep",
                 And(runnable, sig == 0, self.byte(t) == RUNNING), eff, ret,
                 K(fn, "step 4: get_user(state) == RUNNING: return 0 (goto out)"))
        self.act("umcg_idle_loop.nested.state_not_running_loop", t, "K", "k:hidle.sleep",
                 And(runnable, sig == 0, self.byte(t) != RUNNING), {ks: K_RUNNING}, "k:hidle.set",
                 K(fn, "step 4: state != RUNNING: loop"))

    io_cite = E("blocking I/O syscall", "wait_event: prepare_to_wait; if done break; schedule()",
                "§2.7")

    def io_entry(self, t: int, at: str, nxt_op: str) -> None:
        """Worker op "block": enter a blocking syscall that waits for an I/O."""
        V = self.V
        self.act("io.prepare_to_wait", t, "K", at, 1,
                 {V["io"][t]: IO_PENDING, V["kstate"][t]: K_UNINTERRUPTIBLE,
                  V["ret_k"][t]: self.L("k:io.after"), V["ret_sys"][t]: self.L(nxt_op)},
                 "k:sched.entry", self.io_cite)

    def io_syscall(self, t: int) -> None:
        """A blocking syscall: wait_event(UNINTERRUPTIBLE) until the environment completes it."""
        V = self.V
        io, ks = V["io"][t], V["kstate"][t]
        cite = self.io_cite
        eff = self.ret_to_user(t, OK)
        eff[io] = IO_NONE
        self.act("io.done_return", t, "K", "k:io.after", io == IO_DONE, eff, None, cite)
        self.act("io.not_done_sleep_again", t, "K", "k:io.after", io != IO_DONE,
                 {ks: K_UNINTERRUPTIBLE, V["ret_k"][t]: self.L("k:io.after")}, "k:sched.entry",
                 cite)

    # ------------------------------------------------------------ user space: server
    def server(self, t: int) -> None:
        V, mem, g = self.V, self.mem, self.g
        st, first, nxt, tgt = V["state"][t], V["first"][t], V["nxt"][t], V["tgt"][t]
        rv, ret_sys = V["rv"][t], V["ret_sys"][t]
        me = t + 1
        # sys_umcg_ctl(UMCG_CTL_REGISTER, self) for a server (§2.5 steps 2-5, 8).
        ctl = "sys_umcg_ctl"
        self.act(f"{ctl}.register_server", t, "K", "u:srv.register", st == RUNNING,
                 {V["registered"][t]: 1}, "u:srv.loop",
                 K(ctl, "step 8: copy_from_user; state == RUNNING; umcg_task = self", "§2.5"))
        self.act(f"{ctl}.register_einval", t, "K", "u:srv.register", st != RUNNING, self.abort(t),
                 None, K(ctl, "step 8: state != RUNNING: -EINVAL", "§2.5"))
        # 1. take all idle workers in one op: xchg(IWH, 0) (Oskolkov [S5]).
        iwh = mem[self.IWH]
        self.act("server.pop_all_idle_workers", t, "U", "u:srv.loop", iwh != 0,
                 {first: iwh, iwh: 0}, "u:srv.walk", U("server loop", "1: xchg(&IWH, 0)"))
        self.act("server.idle_workers_empty", t, "U", "u:srv.loop", iwh == 0, {}, "u:srv.pick",
                 U("server loop", "1: IWH empty"))
        # Walk the taken chain: per node, read the link, then point the field back at IWH.
        for w in self.workers:
            a = self.wnode(w)
            self.act("server.take_idle_worker", t, "U", "u:srv.walk",
                     (first >> 1) == a, {nxt: mem[a]}, "u:srv.restore",
                     U("server loop", "1: next = W.idle_workers_ptr"), worker=w)
            self.act("server.restore_idle_workers_ptr", t, "U", "u:srv.restore",
                     (first >> 1) == a, {mem[a]: self.ptr(self.IWH)}, "u:srv.enqueue",
                     U("server loop", "1: W.idle_workers_ptr = &IWH before W can be pushed "
                       "again"), worker=w)
            bit = 1 << (w - self.p.servers)
            self.act("server.enqueue_runnable", t, "U", "u:srv.enqueue", (first >> 1) == a,
                     {g["runq"]: g["runq"] | bit, first: nxt, nxt: 0},
                     Ite(nxt == 0, self.L("u:srv.pick"), self.L("u:srv.walk")),
                     U("server loop", "1: add W to the ready set"), worker=w)
        wn = [self.ptr(self.wnode(w)) for w in self.workers]
        self.act("server.bad_idle_worker_node", t, "U", "u:srv.walk",
                 And(*[first != x for x in wn]), self.abort(t), None,
                 U("server loop", "1: a node that is no worker's idle_workers_ptr"))
        # 2. run a ready worker: server_tid, self IDLE (next_tid private), W RUNNING, swap.
        for w in self.workers:
            bit = 1 << (w - self.p.servers)
            self.act("server.pick_worker", t, "U", "u:srv.pick", (g["runq"] & bit) != 0,
                     {g["runq"]: g["runq"] - bit, tgt: w + 1}, "u:srv.run.server_tid",
                     U("server loop", "2: take W from the ready set"), worker=w)
            self.act("server.set_worker_server_tid", t, "U", "u:srv.run.server_tid", tgt == w + 1,
                     {V["server_tid"][w]: me}, "u:srv.run.self_idle",
                     U("server loop", "2.1: W.server_tid = self"), worker=w)
            self.act("server.set_worker_running", t, "U", "u:srv.run.worker_running",
                     tgt == w + 1,
                     {V["state"][w]: RUNNING, tgt: 0, ret_sys: self.L("u:srv.after")},
                     "k:wait.entry", U("server loop", "2.1: W.state = RUNNING; 2.2: umcg_wait(0)"),
                     worker=w)
        self.act("server.set_self_idle", t, "U", "u:srv.run.self_idle", 1,
                 {st: IDLE, V["next_tid"][t]: tgt}, "u:srv.run.worker_running",
                 U("server loop", "2.1: self.state = IDLE, self.next_tid = W"))
        self.act("server.no_ready_worker", t, "U", "u:srv.pick", g["runq"] == 0, {},
                 "u:srv.idle.self_idle", U("server loop", "3: nothing to run"))
        # After sys_umcg_wait returns.
        self.act("server.wait_returned", t, "U", "u:srv.after", rv == OK, {}, "u:srv.loop",
                 U("server loop", "2.3: returned 0: loop"))
        self.act("server.wait_eagain_retry", t, "U", "u:srv.after", rv == EAGAIN,
                 {rv: 0, ret_sys: self.L("u:srv.after")}, "k:wait.entry",
                 U("server loop", "2.4: -EAGAIN, worker not yet asleep: retry"))
        self.act("server.wait_eintr", t, "U", "u:srv.after", rv == EINTR, {rv: 0}, "u:srv.eintr",
                 U("server loop", "-EINTR: check own state (decision, docs)"))
        self.act("server.wait_unexpected_error", t, "U", "u:srv.after",
                 And(rv != OK, rv != EAGAIN, rv != EINTR), self.abort(t), None,
                 U("server loop", "unexpected error from sys_umcg_wait"))
        self.act("server.eintr_running", t, "U", "u:srv.eintr", (st & 3) == RUNNING, {},
                 "u:srv.loop", U("server loop", "-EINTR and RUNNING: loop"))
        self.act("server.eintr_wait_again", t, "U", "u:srv.eintr", (st & 3) != RUNNING,
                 {V["next_tid"][t]: 0, ret_sys: self.L("u:srv.after")}, "k:wait.entry",
                 U("server loop", "-EINTR and not RUNNING: wait again with next_tid = 0"))
        # 3. go idle: self IDLE, next_tid = 0, push &self.idle_servers_ptr onto ISH, wait.
        self.act("server.go_idle", t, "U", "u:srv.idle.self_idle", 1,
                 {st: IDLE, V["next_tid"][t]: 0, V["head"][t]: self.ptr(self.ISH)},
                 "u:srv.idle.push.read", U("server loop", "3.1: self.state = IDLE, next_tid = 0"))
        call_wait = {ret_sys: self.L("u:srv.after")}
        after_push = "u:srv.idle.recheck" if self.p.server_recheck else "k:wait.entry"
        self.stack_push(t, "u:srv.idle.push", "U", [self.ISH], self.snode(t), after_push,
                        {} if self.p.server_recheck else call_wait,
                        lambda step: U("atomic_stack_push (user, same algorithm as §2.4)", step))
        if self.p.server_recheck:
            self.server_recheck(t, call_wait)

    def server_recheck(self, t: int, call_wait: dict) -> None:
        """3.4 (inferred): after publishing itself on ISH, look at IWH once more."""
        V, mem = self.V, self.mem
        first, head = V["first"][t], V["head"][t]
        iwh = mem[self.IWH]
        self.act("server.recheck_idle_workers_empty", t, "U", "u:srv.idle.recheck", iwh == 0,
                 call_wait, "k:wait.entry", U("server loop", "3.4: IWH still empty: wait"))
        self.act("server.recheck_idle_workers_found", t, "U", "u:srv.idle.recheck", iwh != 0,
                 {head: self.ptr(self.ISH)}, "u:srv.idle.undo.read",
                 U("server loop", "3.4: work appeared: pop one idle server (decision)"))
        self.stack_pop(t, "u:srv.idle.undo", "U", [self.ISH], "u:srv.idle.undone",
                       lambda: self.abort(t),
                       lambda step: U("atomic_stack_pop (user, same algorithm as §2.4)", step))
        self.act("server.undo_popped_none", t, "U", "u:srv.idle.undone", first == 0, call_wait,
                 "k:wait.entry", U("server loop", "3.4: ISH empty, the kernel took us: wait"))
        self.act("server.undo_popped_self", t, "U", "u:srv.idle.undone",
                 first == self.ptr(self.snode(t)), {first: 0, V["state"][t]: RUNNING}, "u:srv.loop",
                 U("server loop", "3.4: popped ourselves: self.state = RUNNING, loop"))
        for u in self.servers:
            if u == t:
                continue
            # Hand the work to the popped server u: IDLE->RUNNING, then a signal (§2.3 (b)).
            self.act("server.handoff_cmpxchg_ok", t, "U", "u:srv.idle.undone",
                     And(first == self.ptr(self.snode(u)), V["state"][u] == IDLE),
                     {first: 0, V["state"][u]: RUNNING, V["tgt"][t]: u + 1}, "u:srv.idle.handoff",
                     U("server loop", "3.4: popped server: cmpxchg(state, IDLE, RUNNING)"),
                     server=u)
            self.act("server.handoff_cmpxchg_failed", t, "U", "u:srv.idle.undone",
                     And(first == self.ptr(self.snode(u)), V["state"][u] != IDLE),
                     {**call_wait, first: 0}, "k:wait.entry",
                     U("server loop", "3.4: popped server not IDLE: leave it, wait"), server=u)
            eff = self.tgkill(u)
            eff.update(call_wait)
            eff[V["tgt"][t]] = 0
            self.act("server.handoff_signal", t, "U", "u:srv.idle.handoff",
                     V["tgt"][t] == u + 1, eff, "k:wait.entry",
                     U("server loop", "3.4: tgkill(server): IDLE=>RUNNING route (b)", "§2.3"),
                     server=u)
        sn = [self.ptr(self.snode(u)) for u in self.servers]
        self.act("server.undo_bad_node", t, "U", "u:srv.idle.undone",
                 And(first != 0, *[first != x for x in sn]), self.abort(t), None,
                 U("server loop", "3.4: popped a node that is no server's idle_servers_ptr"))

    def tgkill(self, u: int) -> dict:
        """A signal to task u: pending if u is in the kernel (user code runs the handler
        at once), and signal_wake_up() if u sleeps interruptibly."""
        V = self.V
        k = self.kernel_range
        in_k = And(V["pc"][u] >= k[0], V["pc"][u] < k[1])
        return {V["sigpending"][u]: Ite(in_k, 1, V["sigpending"][u]),
                V["kstate"][u]: Ite(V["kstate"][u] == K_INTERRUPTIBLE, K_RUNNING, V["kstate"][u])}

    # ------------------------------------------------------------ user space: worker
    def worker(self, t: int, ops: tuple[str, ...]) -> None:
        V, g = self.V, self.g
        st, rv, ret_sys, tid, tgt = (V["state"][t], V["rv"][t], V["ret_sys"][t], V["tid"][t],
                                     V["tgt"][t])
        wi = t - self.p.servers
        mybit = 1 << wi
        ctl = "sys_umcg_ctl"
        idle_word = IDLE | LOCKED if self.p.lock_before_wait else IDLE
        # Registration: sys_umcg_ctl(REGISTER|WORKER) runs umcg_wq_worker_running directly.
        first_op = "u:op0" if ops else "u:exit"
        self.act(f"{ctl}.register_worker", t, "K", "u:wrk.register", st == IDLE,
                 {V["registered"][t]: 1, V["pf"][t]: 1, V["ret_k"][t]: self.L("k:wrk.registered")},
                 "k:wqr.entry",
                 K(ctl, "step 7: state == IDLE; umcg_task = self; PF_UMCG_WORKER; "
                   "umcg_wq_worker_running()", "§2.5"))
        self.act(f"{ctl}.register_einval", t, "K", "u:wrk.register", st != IDLE, self.abort(t),
                 None, K(ctl, "step 7: state != IDLE: -EINVAL", "§2.5"))
        self.act(f"{ctl}.register_return", t, "K", "k:wrk.registered", 1,
                 {V["sigpending"][t]: 0}, "u:wrk.reg.check",
                 K(ctl, "step 7: return 0 (also after a signal)", "§2.5"))
        self.after_wait(t, "u:wrk.reg", first_op)

        for k, op in enumerate(ops):
            at = f"u:op{k}"
            nxt_op = f"u:op{k + 1}" if k + 1 < len(ops) else "u:exit"
            if op == "block":
                self.io_entry(t, at, nxt_op)
            elif op == "yield":
                self.act("worker.yield.set_self_idle", t, "U", at, 1, {st: idle_word},
                         f"{at}.enqueue", U("worker", "yield: self.state = IDLE"))
                self.act("worker.yield.enqueue_self", t, "U", f"{at}.enqueue", 1,
                         {g["runq"]: g["runq"] | mybit}, f"{at}.read_server",
                         U("worker", "yield: put self on the ready set"))
                self.act("worker.yield.read_server_tid", t, "U", f"{at}.read_server", 1,
                         {tid: V["server_tid"][t]}, f"{at}.wake_server",
                         U("worker", "yield: read self.server_tid"))
                self.act("worker.yield.no_server", t, "U", f"{at}.wake_server", tid == 0,
                         self.abort(t), None, U("worker", "yield: no server to yield to"))
                for u in self.servers:
                    self.act("worker.yield.set_server_running", t, "U", f"{at}.wake_server",
                             tid == u + 1,
                             {V["state"][u]: RUNNING, tid: 0, V["next_tid"][t]: 0,
                              ret_sys: self.L(f"{at}.after")}, self.enter(t, at, "k:wait.entry"),
                             U("worker", "yield: server.state = RUNNING; next_tid = 0; "
                               "umcg_wait(0)", "§2.9 U2"), server=u)
                self.after_wait(t, at, nxt_op)
            elif op == "swap":
                others = [w for w in self.workers if w != t]
                for w in others:
                    bit = 1 << (w - self.p.servers)
                    self.act("worker.swap.pick", t, "U", at, (g["runq"] & bit) != 0,
                             {g["runq"]: g["runq"] - bit, tgt: w + 1}, f"{at}.read_server",
                             U("worker", "swap: take W2 from the ready set", "§2.9 U3"), worker=w)
                none = And(*[(g["runq"] & (1 << (w - self.p.servers))) == 0 for w in others])
                self.act("worker.swap.nothing_ready", t, "U", at, none, {}, nxt_op,
                         U("worker", "swap: nothing ready: skip"))
                self.act("worker.swap.read_server_tid", t, "U", f"{at}.read_server", 1,
                         {tid: V["server_tid"][t]}, f"{at}.set_server",
                         U("worker", "swap: read self.server_tid", "§2.9 U3"))
                for w in others:
                    self.act("worker.swap.set_target_server_tid", t, "U", f"{at}.set_server",
                             tgt == w + 1, {V["server_tid"][w]: tid, tid: 0}, f"{at}.self_idle",
                             U("worker", "swap: W2.server_tid = S", "§2.9 U3"), worker=w)
                self.act("worker.swap.set_self_idle", t, "U", f"{at}.self_idle", 1,
                         {st: idle_word}, f"{at}.enqueue",
                         U("worker", "swap: self.state = IDLE", "§2.9 U3"))
                self.act("worker.swap.enqueue_self", t, "U", f"{at}.enqueue", 1,
                         {g["runq"]: g["runq"] | mybit}, f"{at}.run_target",
                         U("worker", "swap: put self on the ready set"))
                for w in others:
                    self.act("worker.swap.set_target_running", t, "U", f"{at}.run_target",
                             tgt == w + 1,
                             {V["state"][w]: RUNNING, V["next_tid"][t]: w + 1, tgt: 0,
                              ret_sys: self.L(f"{at}.after")}, self.enter(t, at, "k:wait.entry"),
                             U("worker", "swap: W2.state = RUNNING; next_tid = W2; umcg_wait(0)",
                               "§2.9 U3"), worker=w)
                self.after_wait(t, at, nxt_op)
            elif op == "wake":
                others = [w for w in self.workers if w != t]
                for w in others:
                    bit = 1 << (w - self.p.servers)
                    self.act("worker.wake.pick", t, "U", at, (g["runq"] & bit) != 0,
                             {g["runq"]: g["runq"] - bit, tgt: w + 1}, f"{at}.clear_server",
                             U("worker", "wake: take W2 from the ready set", "§2.9 U4"), worker=w)
                    self.act("worker.wake.clear_target_server_tid", t, "U", f"{at}.clear_server",
                             tgt == w + 1, {V["server_tid"][w]: 0}, f"{at}.set_running",
                             U("worker", "wake: W2.server_tid = 0, so the kernel queues W2 "
                               "on IWH (decision)"), worker=w)
                    self.act("worker.wake.set_target_running", t, "U", f"{at}.set_running",
                             tgt == w + 1,
                             {V["state"][w]: RUNNING, V["next_tid"][t]: w + 1, tgt: 0,
                              ret_sys: self.L(f"{at}.after")}, self.enter(t, at, "k:wake.entry"),
                             U("worker", "wake: W2.state = RUNNING; next_tid = W2; "
                               "umcg_wait(WAKE_ONLY)", "§2.9 U4"), worker=w)
                none = And(*[(g["runq"] & (1 << (w - self.p.servers))) == 0 for w in others])
                self.act("worker.wake.nothing_ready", t, "U", at, none, {}, nxt_op,
                         U("worker", "wake: nothing ready: skip"))
                self.act("worker.wake.returned", t, "U", f"{at}.after", rv == OK,
                         {V["next_tid"][t]: 0}, nxt_op, U("worker", "wake: returned 0"))
                self.act("worker.wake.eagain_retry", t, "U", f"{at}.after", rv == EAGAIN,
                         {rv: 0, ret_sys: self.L(f"{at}.after")}, "k:wake.entry",
                         U("worker", "wake: -EAGAIN, not asleep yet: retry", "§2.9 U4"))
                self.act("worker.wake.unexpected_error", t, "U", f"{at}.after",
                         And(rv != OK, rv != EAGAIN), self.abort(t), None,
                         U("worker", "wake: unexpected error"))
            else:  # pragma: no cover - Params validation rejects it
                raise ValueError(op)
        # Exit: unregister, then wake the server (R3: user space must wake it).
        self.act("worker.exit.read_server_tid", t, "U", "u:exit", 1, {tid: V["server_tid"][t]},
                 "u:exit.unregister", U("worker", "exit: read self.server_tid"))
        self.act(f"{ctl}.unregister", t, "K", "u:exit.unregister", V["registered"][t] == 1,
                 {V["registered"][t]: 0, V["pf"][t]: 0}, "u:exit.server_running",
                 K(ctl, "step 1: clear PF_UMCG_WORKER, umcg_task = NULL", "§2.5"))
        self.act(f"{ctl}.unregister_einval", t, "K", "u:exit.unregister", V["registered"][t] == 0,
                 self.abort(t), None, K(ctl, "step 1: not registered: -EINVAL", "§2.5"))
        self.act("worker.exit.no_server", t, "U", "u:exit.server_running", tid == 0,
                 {}, "done", U("worker", "exit: no server to wake"))
        for u in self.servers:
            self.act("worker.exit.set_server_running", t, "U", "u:exit.server_running",
                     tid == u + 1, {V["state"][u]: RUNNING}, "u:exit.signal",
                     U("worker", "exit: server.state = RUNNING", "§2.9 R3"), server=u)
            eff = self.tgkill(u)
            eff[tid] = 0
            self.act("worker.exit.signal_server", t, "U", "u:exit.signal", tid == u + 1, eff,
                     "done", U("worker", "exit: tgkill(server): IDLE=>RUNNING route (b)", "§2.3"),
                     server=u)

    def enter(self, t: int, at: str, entry: str) -> str:
        """Where a worker's last user store before a syscall goes.

        With preemption in the environment, the syscall instruction is a step of its own,
        so an interrupt can come between the store and the syscall (a preemption point).
        Without it, that step touches nothing shared and is folded into the store."""
        if not self.p.preemptions:
            return entry
        call = f"{at}.call"
        if (t, call) in self._calls:
            return call
        self._calls.add((t, call))
        self.act("worker.enter_syscall", t, "U", call, 1, {}, entry,
                 U("worker", "the syscall instruction after the last store"))
        return call

    def after_wait(self, t: int, at: str, nxt_op: str) -> None:
        """Back in user space after sys_umcg_wait at call site `at`."""
        V = self.V
        rv = V["rv"][t]
        self.act("worker.wait_returned", t, "U", f"{at}.after", rv == OK, {}, nxt_op,
                 U("worker", "umcg_wait returned 0: RUNNING again"))
        self.act("worker.wait_eagain_retry", t, "U", f"{at}.after", rv == EAGAIN,
                 {rv: 0, V["ret_sys"][t]: self.L(f"{at}.after")}, "k:wait.entry",
                 U("worker", "umcg_wait -EAGAIN: the target is not asleep yet: retry"))
        self.act("worker.wait_eintr", t, "U", f"{at}.after", rv == EINTR, {rv: 0}, f"{at}.check",
                 U("worker", "umcg_wait -EINTR: check own state (decision)"))
        self.act("worker.wait_unexpected_error", t, "U", f"{at}.after",
                 And(rv != OK, rv != EAGAIN, rv != EINTR), self.abort(t), None,
                 U("worker", "unexpected error from sys_umcg_wait"))
        self.act("worker.resume.running", t, "U", f"{at}.check", self.byte(t) == RUNNING, {},
                 nxt_op, U("worker", "after -EINTR: self.state == RUNNING: carry on (decision)"))
        self.act("worker.resume.wait_again", t, "U", f"{at}.check", self.byte(t) != RUNNING,
                 {V["next_tid"][t]: 0, V["ret_sys"][t]: self.L(f"{at}.after")}, "k:wait.entry",
                 U("worker", "after -EINTR: not RUNNING: umcg_wait(0) again (decision)"))

    # ------------------------------------------------------------ environment
    def environment(self) -> None:
        V, g = self.V, self.g

        def labels_of(t: int, prefix: str) -> list[str]:
            return sorted(x for x in self.task_labels.get(t, ()) if x.startswith(prefix))

        for w in self.workers:
            # The I/O a blocked worker waits for completes: wake_up() = ttwu(TASK_NORMAL).
            self.spec.action("env.io_complete", task=w, actor="E",
                             guard=V["io"][w] == IO_PENDING,
                             effect={V["io"][w]: IO_DONE, V["kstate"][w]: K_RUNNING},
                             source=E("I/O completion", "wake_up(): try_to_wake_up(TASK_NORMAL)"))
        if self.p.preemptions:
            for w in self.workers:
                for lab in labels_of(w, "u:"):
                    # Involuntary preemption in user space: schedule() with TASK_RUNNING, so
                    # sched_submit_work does nothing and sched_update_worker runs the hook.
                    self.spec.action(
                        "env.preempt", task=w, actor="E",
                        guard=And(V["pc"][w] == self.L(lab), g["pre_left"] > 0, V["pf"][w] == 1),
                        effect={g["pre_left"]: g["pre_left"] - 1,
                                V["ret_k"][w]: self.L(lab), V["pc"][w]: self.L("k:wqr.entry")},
                        source=E("preemption", "exit_to_user_mode: schedule() while "
                                 "TASK_RUNNING: sched_update_worker", "§2.7"))
        if self.p.signals:
            for t in range(self.n):
                for lab in labels_of(t, "k:"):
                    eff = self.tgkill(t)
                    eff[g["sig_left"]] = g["sig_left"] - 1
                    self.spec.action(
                        "env.signal", task=t, actor="E",
                        guard=And(V["pc"][t] == self.L(lab), g["sig_left"] > 0,
                                  V["sigpending"][t] == 0),
                        effect=eff,
                        source=E("signal", "signal_wake_up(): ttwu(TASK_INTERRUPTIBLE)"))


def build(p: Params) -> Model:
    """Build the v0.2 model for the given parameters."""
    for ops in p.ops:
        for op in ops:
            if op not in OPS:
                raise ValueError(f"unknown worker operation {op!r}")

    def run(labels: Labels, krange: tuple[int, int]) -> Builder:
        b = Builder(p, labels)
        b.kernel_range = krange
        labels("u:srv.register")
        labels("u:wrk.register")
        for t in b.servers:
            b.server(t)
        for i, t in enumerate(b.workers):
            b.worker(t, p.ops[i])
        for t in range(b.n):
            b.kernel(t)
        labels("done")
        labels("dead")
        b.environment()
        return b

    probe = Labels()
    run(probe, (0, 0))
    order = Labels.sort(list(probe.seen))
    nuser = sum(1 for x in order if x.startswith("u:"))
    nkern = sum(1 for x in order if x.startswith("k:"))
    if len(order) > 255:
        raise ValueError("too many program labels for one byte")
    b = run(Labels(order), (nuser, nuser + nkern))
    pc_dom = Domain(0, len(order) - 1, tuple(order), "pc")
    for name in ("pc", "ret_sys", "ret_k"):
        for v in b.V[name]:
            v.domain = pc_dom
    for t in b.tasks:
        b.V["pc"][t.index].init = order.index("u:srv.register" if t.role == "server"
                                              else "u:wrk.register")
    done = order.index("done")
    finished = And(*[b.V["pc"][w] == done for w in b.workers])
    addr_names = b.addr_names

    def fmt(v: Var, x: int) -> str:
        d = v.domain
        if d.kind == "ptr":
            if x == 0:
                return "NULL"
            s = "&" + addr_names[x >> 1] if (x >> 1) < len(addr_names) else f"?{x}"
            return s + "|1" if x & 1 else s
        if d.kind == "mask":
            names = [b.tasks[b.workers[i]].name for i in range(len(b.workers)) if x >> i & 1]
            return "{" + ",".join(names) + "}"
        if d.names and 0 <= x < len(d.names):
            name = d.names[x]
            return name[2:] if d.kind == "pc" and name[:2] in ("u:", "k:") else name
        return str(x)

    return Model(b.spec, p, b.tasks, order, range(nuser, nuser + nkern), b.V, b.g, addr_names,
                 finished, fmt)
