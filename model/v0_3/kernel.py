"""The v0.3 kernel paths that differ from v0.2 (semantics §3): the idle loop that re-checks
the state after set_current_state, a single ttwu whose result is ignored, try_to_wake_server,
and wake detection with the bounded list helpers."""

from __future__ import annotations

from model.lang import And, Ite, Or
from model.v0_2.common import IDLE, K_INTERRUPTIBLE, K_RUNNING, OK, RUNNING
from model.v0_3.common import K3
from model.variant import drop_actions


class KernelMixinV03:
    def sys_umcg_wait(self, t: int) -> None:
        """As v0.2 up to the target; then umcg_ttwu / umcg_do_context_switch ignore ttwu's
        result: no -EAGAIN for "not asleep yet" (§3, wait/wake ordering)."""
        super().sys_umcg_wait(t)
        drop_actions(self.spec, t, {"umcg_do_context_switch.ttwu_ok",
                                    "umcg_do_context_switch.ttwu_failed_eagain",
                                    "umcg_do_wake.ttwu_ok", "umcg_do_wake.ttwu_failed_eagain"})
        V = self.V
        reg, nt, tgt = V["registered"][t], V["next_tid"][t], V["tgt"][t]
        for u in range(self.n):
            alive = V["pc"][u] != self.L("done")
            eff = self.ttwu(u)
            eff[tgt] = 0
            self.act("umcg_do_context_switch.ttwu", t, "K", "k:wait.ctx",
                     And(tgt == u + 1, alive), eff, "k:idle.entry",
                     K3("umcg_do_context_switch",
                        "try_to_wake_up(next, WF_CURRENT_CPU) (result ignored); umcg_idle_loop"),
                     next=u)
            eff = self.ret_to_user(t, OK)
            eff.update(self.ttwu(u))
            self.act("umcg_ttwu.ttwu", t, "K", "k:wake.entry",
                     And(reg == 1, nt == u + 1, V["registered"][u] == 1), eff, None,
                     K3("umcg_ttwu", "try_to_wake_up(next) (result ignored): return 0"), next=u)

    def idle_loop(self, t: int) -> None:
        """umcg_idle_loop(0) from sys_umcg_wait: unlock as v0.2, then per iteration
        set_current_state, smp_mb, get_user(state) and return if RUNNING, before schedule()."""
        super().idle_loop(t)
        drop_actions(self.spec, t, {"umcg_idle_loop.set_current_state"})
        V = self.V
        ks = V["kstate"][t]
        fn = "umcg_idle_loop"
        self.act(f"{fn}.set_current_state", t, "K", "k:idle.set", 1, {ks: K_INTERRUPTIBLE},
                 "k:idle.check", K3(fn, "loop: set_current_state(TASK_INTERRUPTIBLE); smp_mb"))
        self.act(f"{fn}.check_running_return", t, "K", "k:idle.check", self.byte(t) == RUNNING,
                 {**self.ret_to_user(t, OK), ks: K_RUNNING},
                 None, K3(fn, "get_user(state) == RUNNING: set_current_state(TASK_RUNNING), "
                          "return 0"))
        self.act(f"{fn}.check_not_running_schedule", t, "K", "k:idle.check",
                 self.byte(t) != RUNNING, {V["ret_k"][t]: self.L("k:idle.after")},
                 "k:sched.entry", K3(fn, "state != RUNNING: freezable_schedule()"))

    def wake_server(self, t: int, pre: str, done: str, fn_caller: str) -> None:
        """try_to_wake_server(ut_server, server_tid): cmpxchg IDLE->RUNNING; a server already
        RUNNING is left alone, any other state is a contract breach; then one umcg_ttwu."""
        V = self.V
        tid, tgt = V["tid"][t], V["tgt"][t]
        fn = "try_to_wake_server"
        by_tid = fn_caller == "umcg_wq_worker_sleeping"
        for u in range(self.n):
            who = tid if by_tid else tgt
            lookup_ok = V["registered"][u] == 1 if by_tid else 1
            if by_tid:
                # v0.3: the sleeping hook ignores try_to_wake_server's result: no die here.
                self.act(f"{fn}.no_umcg_task", t, "K", f"{pre}.cmpxchg",
                         And(who == u + 1, V["registered"][u] == 0), {tid: 0, tgt: 0}, done,
                         K3(fn, "find_task_by_vpid/umcg_task NULL: return false"), server=u)
            self.act(f"{fn}.cmpxchg_idle_running", t, "K", f"{pre}.cmpxchg",
                     And(who == u + 1, lookup_ok, V["state"][u] == IDLE),
                     {V["state"][u]: RUNNING, tgt: 0}, f"{pre}.loop",
                     K3(fn, "cmpxchg_user_32(state, IDLE, RUNNING) == 0"), server=u)
            self.act(f"{fn}.already_running", t, "K", f"{pre}.cmpxchg",
                     And(who == u + 1, lookup_ok, V["state"][u] == RUNNING),
                     {tid: 0, tgt: 0}, done,
                     K3(fn, "cmpxchg failed, state == RUNNING: return false"), server=u)
            self.act(f"{fn}.cmpxchg_failed_die", t, "K", f"{pre}.cmpxchg",
                     And(who == u + 1, lookup_ok, V["state"][u] != IDLE,
                         V["state"][u] != RUNNING), self.die(t), None,
                     K3(fn, "cmpxchg failed, state != RUNNING: umcg_die (contract broken)"),
                     server=u)
        for u in range(self.n):
            self.act("umcg_ttwu.esrch", t, "K", f"{pre}.loop",
                     And(tid == u + 1, V["registered"][u] == 0), {tid: 0}, done,
                     K3("umcg_ttwu", "find_task_by_vpid/umcg_task NULL: -ESRCH (ignored)"),
                     server=u)
            eff = self.ttwu(u)
            eff[tid] = 0
            self.act("umcg_ttwu.ttwu", t, "K", f"{pre}.loop",
                     And(tid == u + 1, V["registered"][u] == 1), eff, done,
                     K3("umcg_ttwu", "try_to_wake_up(server, WF_CURRENT_CPU), result ignored"),
                     server=u)

    def umcg_wq_worker_running(self, t: int) -> None:
        """Wake detection (v0.3): v0.2's steps with the v0.3 helpers swapped in by the
        overrides (umcg_sll_push bounded, umcg_sll_pop, try_to_wake_server; the smp_mb
        between steps 1 and 2 is sequential consistency here), and step 3, the nested
        umcg_idle_loop, which now checks the state before sleeping."""
        super().umcg_wq_worker_running(t)
        drop_actions(self.spec, t, {a.name for a in self.spec.actions
                                    if a.task == t and a.name.startswith("umcg_idle_loop.nested")})
        V = self.V
        pf, ret = V["pf"][t], V["ret_k"][t]
        fn = "umcg_wq_worker_running"
        to_user = ret < self.kernel_range[0]
        out = {pf: 1, ret: 0, V["sigpending"][t]: Ite(to_user, 0, V["sigpending"][t])}
        # Step 3: umcg_idle_loop(0), nested; PF_UMCG_WORKER is clear: no unlock, no hooks.
        ks, sig = V["kstate"][t], V["sigpending"][t]
        ni = "umcg_idle_loop.nested"
        self.act(f"{ni}.set_current_state", t, "K", "k:hidle.set", 1, {ks: K_INTERRUPTIBLE},
                 "k:hidle.check", K3(fn, "step 3: umcg_idle_loop: set_current_state; smp_mb"))
        self.act(f"{ni}.check_running_out", t, "K", "k:hidle.check", self.byte(t) == RUNNING,
                 {**out, ks: K_RUNNING}, ret,
                 K3(fn, "step 3: get_user(state) == RUNNING before sleeping: return 0 (out)"))
        self.act(f"{ni}.check_not_running_sleep", t, "K", "k:hidle.check",
                 self.byte(t) != RUNNING, {}, "k:hidle.sleep",
                 K3(fn, "step 3: state != RUNNING: freezable_schedule()"))
        runnable = Or(ks == K_RUNNING, And(sig == 1, ks == K_INTERRUPTIBLE))
        self.deactivate(t, "k:hidle.sleep", runnable)
        eff = {**out, ks: K_RUNNING}
        self.act(f"{ni}.signal_pending_out", t, "K", "k:hidle.sleep", And(runnable, sig == 1),
                 eff, ret, K3(fn, "step 3: signal pending: -EINTR, ignored (goto out)"))
        self.act(f"{ni}.state_running_out", t, "K", "k:hidle.sleep",
                 And(runnable, sig == 0, self.byte(t) == RUNNING), eff, ret,
                 K3(fn, "step 3: get_user(state) == RUNNING: return 0 (goto out)"))
        self.act(f"{ni}.state_not_running_loop", t, "K", "k:hidle.sleep",
                 And(runnable, sig == 0, self.byte(t) != RUNNING), {ks: K_RUNNING}, "k:hidle.set",
                 K3(fn, "step 3: state != RUNNING: loop"))

