"""The user-space protocol of v0.2 (semantics §2.10, decisions in docs/model-v0.2.md)."""

from __future__ import annotations

from model.lang import And, Ite
from model.v0_2.common import (
    EAGAIN,
    EINTR,
    IDLE,
    K_INTERRUPTIBLE,
    K_RUNNING,
    LOCKED,
    OK,
    RUNNING,
    K,
    U,
)


class UserSpaceMixin:
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
        V = self.V
        st = V["state"][t]
        ctl = "sys_umcg_ctl"
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
        build_op = {"block": self.io_entry, "yield": self.op_yield, "swap": self.op_swap,
                    "wake": self.op_wake}
        for k, op in enumerate(ops):
            nxt_op = f"u:op{k + 1}" if k + 1 < len(ops) else "u:exit"
            build_op[op](t, f"u:op{k}", nxt_op)
        self.worker_exit(t)

    def idle_word(self) -> int:
        return IDLE | LOCKED if self.p.lock_before_wait else IDLE

    def ready_bit(self, w: int) -> int:
        return 1 << (w - self.p.servers)

    def pick_ready(self, t: int, op: str, at: str, to: str, nxt_op: str, section: str) -> None:
        """Take another worker W2 from the ready set into local `tgt`, or skip the op."""
        runq, tgt = self.g["runq"], self.V["tgt"][t]
        others = [w for w in self.workers if w != t]
        for w in others:
            bit = self.ready_bit(w)
            self.act(f"worker.{op}.pick", t, "U", at, (runq & bit) != 0,
                     {runq: runq - bit, tgt: w + 1}, to,
                     U("worker", f"{op}: take W2 from the ready set", section), worker=w)
        none = And(*[(runq & self.ready_bit(w)) == 0 for w in others])
        self.act(f"worker.{op}.nothing_ready", t, "U", at, none, {}, nxt_op,
                 U("worker", f"{op}: nothing ready: skip"))

    def op_yield(self, t: int, at: str, nxt_op: str) -> None:
        V, runq = self.V, self.g["runq"]
        tid = V["tid"][t]
        self.act("worker.yield.set_self_idle", t, "U", at, 1, {V["state"][t]: self.idle_word()},
                 f"{at}.enqueue", U("worker", "yield: self.state = IDLE"))
        self.act("worker.yield.enqueue_self", t, "U", f"{at}.enqueue", 1,
                 {runq: runq | self.ready_bit(t)}, f"{at}.read_server",
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
                      V["ret_sys"][t]: self.L(f"{at}.after")}, self.enter(t, at, "k:wait.entry"),
                     U("worker", "yield: server.state = RUNNING; next_tid = 0; umcg_wait(0)",
                       "§2.9 U2"), server=u)
        self.after_wait(t, at, nxt_op)

    def op_swap(self, t: int, at: str, nxt_op: str) -> None:
        V, runq = self.V, self.g["runq"]
        tid, tgt = V["tid"][t], V["tgt"][t]
        self.pick_ready(t, "swap", at, f"{at}.read_server", nxt_op, "§2.9 U3")
        self.act("worker.swap.read_server_tid", t, "U", f"{at}.read_server", 1,
                 {tid: V["server_tid"][t]}, f"{at}.set_server",
                 U("worker", "swap: read self.server_tid", "§2.9 U3"))
        others = [w for w in self.workers if w != t]
        for w in others:
            self.act("worker.swap.set_target_server_tid", t, "U", f"{at}.set_server",
                     tgt == w + 1, {V["server_tid"][w]: tid, tid: 0}, f"{at}.self_idle",
                     U("worker", "swap: W2.server_tid = S", "§2.9 U3"), worker=w)
        self.act("worker.swap.set_self_idle", t, "U", f"{at}.self_idle", 1,
                 {V["state"][t]: self.idle_word()}, f"{at}.enqueue",
                 U("worker", "swap: self.state = IDLE", "§2.9 U3"))
        self.act("worker.swap.enqueue_self", t, "U", f"{at}.enqueue", 1,
                 {runq: runq | self.ready_bit(t)}, f"{at}.run_target",
                 U("worker", "swap: put self on the ready set"))
        for w in others:
            self.act("worker.swap.set_target_running", t, "U", f"{at}.run_target",
                     tgt == w + 1,
                     {V["state"][w]: RUNNING, V["next_tid"][t]: w + 1, tgt: 0,
                      V["ret_sys"][t]: self.L(f"{at}.after")}, self.enter(t, at, "k:wait.entry"),
                     U("worker", "swap: W2.state = RUNNING; next_tid = W2; umcg_wait(0)",
                       "§2.9 U3"), worker=w)
        self.after_wait(t, at, nxt_op)

    def op_wake(self, t: int, at: str, nxt_op: str) -> None:
        V = self.V
        rv, tgt = V["rv"][t], V["tgt"][t]
        self.pick_ready(t, "wake", at, f"{at}.clear_server", nxt_op, "§2.9 U4")
        for w in (w for w in self.workers if w != t):
            self.act("worker.wake.clear_target_server_tid", t, "U", f"{at}.clear_server",
                     tgt == w + 1, {V["server_tid"][w]: 0}, f"{at}.set_running",
                     U("worker", "wake: W2.server_tid = 0, so the kernel queues W2 on IWH "
                       "(decision)"), worker=w)
            self.act("worker.wake.set_target_running", t, "U", f"{at}.set_running",
                     tgt == w + 1,
                     {V["state"][w]: RUNNING, V["next_tid"][t]: w + 1, tgt: 0,
                      V["ret_sys"][t]: self.L(f"{at}.after")}, self.enter(t, at, "k:wake.entry"),
                     U("worker", "wake: W2.state = RUNNING; next_tid = W2; "
                       "umcg_wait(WAKE_ONLY)", "§2.9 U4"), worker=w)
        self.act("worker.wake.returned", t, "U", f"{at}.after", rv == OK,
                 {V["next_tid"][t]: 0}, nxt_op, U("worker", "wake: returned 0"))
        self.act("worker.wake.eagain_retry", t, "U", f"{at}.after", rv == EAGAIN,
                 {rv: 0, V["ret_sys"][t]: self.L(f"{at}.after")}, "k:wake.entry",
                 U("worker", "wake: -EAGAIN, not asleep yet: retry", "§2.9 U4"))
        self.act("worker.wake.unexpected_error", t, "U", f"{at}.after",
                 And(rv != OK, rv != EAGAIN), self.abort(t), None,
                 U("worker", "wake: unexpected error"))

    def worker_exit(self, t: int) -> None:
        V = self.V
        tid = V["tid"][t]
        ctl = "sys_umcg_ctl"
        # Exit: unregister, then wake the server (R3: user space must wake it).
        self.act("worker.exit.read_server_tid", t, "U", "u:exit", 1, {tid: V["server_tid"][t]},
                 "u:exit.unregister", U("worker", "exit: read self.server_tid"))
        self.act(f"{ctl}.unregister", t, "K", "u:exit.unregister", V["registered"][t] == 1,
                 {V["registered"][t]: 0, V["pf"][t]: 0}, "u:exit.server_running",
                 K(ctl, "step 1: clear PF_UMCG_WORKER, umcg_task = NULL", "§2.5"))
        self.act(f"{ctl}.unregister_einval", t, "K", "u:exit.unregister", V["registered"][t] == 0,
                 self.abort(t), None, K(ctl, "step 1: not registered: -EINVAL", "§2.5"))
        self.act("worker.exit.no_server", t, "U", "u:exit.server_running", tid == 0,
                 self.release_cpu(t), "done", U("worker", "exit: no server to wake"))
        for u in self.servers:
            self.act("worker.exit.set_server_running", t, "U", "u:exit.server_running",
                     tid == u + 1, {V["state"][u]: RUNNING}, "u:exit.signal",
                     U("worker", "exit: server.state = RUNNING", "§2.9 R3"), server=u)
            eff = self.tgkill(u)
            eff[tid] = 0
            eff.update(self.release_cpu(t))
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
