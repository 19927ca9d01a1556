"""The v0.2 state variables and the helpers every family of actions uses."""

from __future__ import annotations

from model.lang import BOOL, And, Cite, Domain, Expr, Or, Spec, Var, enum
from model.v0_2.common import (
    ERRNO,
    IDLE,
    K_RUNNING,
    RUNNING,
    STATE_NAMES,
    VERSION,
    Labels,
    Params,
    Task,
)


class BuilderBase:
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
        if p.cpus:
            # Bounded CPUs (docs/liveness.md): on_cpu per task, a count of free CPUs, and
            # `fresh`, set when a task is switched in and cleared by its first step, so that
            # a time slice is never empty.
            V["oncpu"] = per_task("on_cpu", BOOL, [0] * n, "kernel")
            V["fresh"] = per_task("fresh_slice", BOOL, [0] * n, "kernel")
            g["free_cpus"] = s.var("free_cpus", Domain(0, p.cpus), p.cpus, group="kernel")
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
        if self.p.cpus and actor in ("K", "U"):
            # A task only takes steps on a CPU.
            guard = And(self.V["oncpu"][t] == 1, guard)
            eff[self.V["fresh"][t]] = 0
        self.spec.action(name, task=t, actor=actor,
                         guard=And(self.V["pc"][t] == self.L(at), guard),
                         effect=eff, source=cite, **params)

    def release_cpu(self, t: int) -> dict:
        """Effect of giving up the CPU (going to sleep, exiting, being preempted)."""
        if not self.p.cpus:
            return {}
        free = self.g["free_cpus"]
        return {self.V["oncpu"][t]: 0, free: free + 1}

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


