"""FUTEX_WAIT / FUTEX_WAKE (kernel/futex.c, Linux 5.13, the kernel the v0.2 patch is against),
at the atomicity the futex hash-bucket lock gives them: futex_wait_setup's value check and
futex_wait_queue_me's set_current_state + queue_me are one step under the bucket lock;
futex_wake dequeues under the lock (mark_wake_futex) and wakes after it (wake_up_q)."""

from __future__ import annotations

from model.lang import And, Cite, Expr, Var
from model.v0_2.common import EAGAIN, EINTR, K_INTERRUPTIBLE, K_RUNNING, OK

FUTEX = "kernel/futex.c"
PROPOSAL = "v0.2+futex"


def F(function: str, step: str) -> Cite:
    return Cite(PROPOSAL, FUTEX, function, step, "Delisle 2021-07-12 [S9]")


class FutexMixin:
    def futex_wait(self, t: int, word: Expr | Var, expected: Expr | Var | int,
                   queued: Var) -> None:
        """futex_wait(uaddr, val) for task t; labels k:fw.*; returns through ret_sys."""
        V = self.V
        ks, sig = V["kstate"][t], V["sigpending"][t]
        self.act("futex_wait.queue", t, "K", "k:fw.entry", word == expected,
                 {queued: 1, ks: K_INTERRUPTIBLE}, "k:fw.queued",
                 F("futex_wait_setup/futex_wait_queue_me",
                   "hb lock: *uaddr == val; set_current_state(TASK_INTERRUPTIBLE); queue_me"))
        self.act("futex_wait.ewouldblock", t, "K", "k:fw.entry", word != expected,
                 self.ret_to_user(t, EAGAIN), None,
                 F("futex_wait_setup", "hb lock: *uaddr != val: -EWOULDBLOCK (-EAGAIN)"))
        self.act("futex_wait.schedule", t, "K", "k:fw.queued", queued == 1,
                 {V["ret_k"][t]: self.L("k:fw.after")}, "k:sched.entry",
                 F("futex_wait_queue_me", "still queued: freezable_schedule()"))
        self.act("futex_wait.already_woken", t, "K", "k:fw.queued", queued == 0,
                 {ks: K_RUNNING}, "k:fw.after",
                 F("futex_wait_queue_me", "dequeued by a waker: skip schedule(); TASK_RUNNING"))
        self.act("futex_wait.woken", t, "K", "k:fw.after", queued == 0,
                 self.ret_to_user(t, OK), None,
                 F("futex_wait", "unqueue_me() == 0: woken by futex_wake, return 0"))
        self.act("futex_wait.signal", t, "K", "k:fw.after", And(queued == 1, sig == 1),
                 {**self.ret_to_user(t, EINTR), queued: 0}, None,
                 F("futex_wait", "unqueue_me(); signal_pending: -ERESTARTSYS (seen as -EINTR)"))
        self.act("futex_wait.spurious_retry", t, "K", "k:fw.after", And(queued == 1, sig == 0),
                 {queued: 0}, "k:fw.entry", F("futex_wait", "unqueue_me(); spurious wakeup: retry"))

    def futex_wake(self, t: int, targets: dict[int, Var]) -> None:
        """futex_wake(&W.futex, 1) for task t; W (one futex word per waiter) is local `tgt`."""
        V = self.V
        tgt = V["tgt"][t]
        for u, q in targets.items():
            self.act("futex_wake.mark_wake_futex", t, "K", "k:fwk.entry",
                     And(tgt == u + 1, q == 1), {q: 0}, "k:fwk.wake",
                     F("futex_wake", "hb lock: match; mark_wake_futex: unqueue, wake_q_add"),
                     waiter=u)
            self.act("futex_wake.no_waiter", t, "K", "k:fwk.entry", And(tgt == u + 1, q == 0),
                     {**self.ret_to_user(t, OK), tgt: 0}, None,
                     F("futex_wake", "hb lock: no queued waiter: return 0"), waiter=u)
            eff = self.ttwu(u)
            eff.update(self.ret_to_user(t, OK))
            eff[tgt] = 0
            self.act("futex_wake.wake_up_q", t, "K", "k:fwk.wake", tgt == u + 1, eff, None,
                     F("futex_wake", "after the hb unlock: wake_up_q: try_to_wake_up"),
                     waiter=u)
