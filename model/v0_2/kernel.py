"""The v0.2 kernel paths: syscalls, the idle loop, schedule() and its UMCG hooks (§2.5-§2.8)."""

from __future__ import annotations

from model.lang import And, Cite, Expr, Ite, Not, Or
from model.v0_2.common import (
    BLOCKED,
    CORE,
    EAGAIN,
    EFAULT,
    EINTR,
    EINVAL,
    ESRCH,
    HFILE,
    IDLE,
    IO_DONE,
    IO_NONE,
    IO_PENDING,
    K_INTERRUPTIBLE,
    K_RUNNING,
    K_UNINTERRUPTIBLE,
    LOCKED,
    OK,
    RUNNING,
    VERSION,
    E,
    K,
)


class KernelMixin:
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

    def deactivate(self, t: int, at: str, runnable: Expr) -> None:
        """With bounded CPUs: __schedule() takes a sleeping task off its CPU."""
        if not self.p.cpus:
            return
        self.act("__schedule.deactivate_task", t, "K", at, Not(runnable), self.release_cpu(t),
                 at, Cite(VERSION, CORE, "__schedule", "deactivate_task: the CPU is free",
                          "§2.7"))

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
        self.deactivate(t, "k:sched.sleep", runnable)
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
        self.deactivate(t, "k:hidle.sleep", runnable)
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
