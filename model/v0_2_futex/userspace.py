"""v0.2 with FUTEX_WAIT/FUTEX_WAKE instead of UMCG_WAIT_WAKE_ONLY (Delisle's proposal):
the worker's wait and another task's wake, and the server waking a waiting worker."""

from __future__ import annotations

from model.lang import And, Cite
from model.v0_2.common import OK
from model.variant import drop_actions

PROPOSAL = "v0.2+futex"
MAIL = "Delisle, Re: [RFC PATCH 3/3 v0.2], 2021-07-12, acad5960-30b2-3693-9117-e0b054ee97a7"


def UF(what: str, step: str) -> Cite:
    return Cite(PROPOSAL, "user space (proposal)", what, step, MAIL)


class FutexUserSpaceMixin:
    def kernel(self, t: int) -> None:
        super().kernel(t)
        # UMCG_WAIT_WAKE_ONLY is gone: the wake is FUTEX_WAKE.
        drop_actions(self.spec, t, {"sys_umcg_wait.wake_only_einval_not_umcg",
                                    "sys_umcg_wait.wake_only_einval_no_next",
                                    "umcg_do_wake.esrch", "umcg_do_wake.ttwu_ok",
                                    "umcg_do_wake.ttwu_failed_eagain"})
        targets = {w: self.V["futex_queued"][w] for w in self.workers}
        if t in self.workers:
            self.futex_wait(t, self.V["futex"][t], 0, self.V["futex_queued"][t])
        self.futex_wake(t, targets)

    def op_yield(self, t: int, at: str, nxt_op: str) -> None:
        """The worker's WAIT: FUTEX_WAIT on its own futex word.  Block detection marks it
        BLOCKED and wakes its server; a FUTEX_WAKE ends the wait and wake detection queues
        it on the idle-workers list (Delisle: "the worker will block, SWAP to the server
        and wait for FUTEX_WAKE")."""
        V, g = self.V, self.g
        word = V["futex"][t]
        self.act("worker.wait.clear_futex", t, "U", at, 1, {word: 0}, f"{at}.enqueue",
                 UF("worker wait", "futex = 0 (before it can be woken)"))
        self.act("worker.wait.enqueue_waiter", t, "U", f"{at}.enqueue", 1,
                 {g["waitq"]: g["waitq"] | self.ready_bit(t),
                  V["ret_sys"][t]: self.L(f"{at}.after")}, self.enter(t, at, "k:fw.entry"),
                 UF("worker wait", "publish self as a waiter; FUTEX_WAIT(&futex, 0)"))
        self.act("worker.wait.woken", t, "U", f"{at}.after", word == 1, {V["rv"][t]: 0}, nxt_op,
                 UF("worker wait", "futex == 1: woken, carry on"))
        self.act("worker.wait.again", t, "U", f"{at}.after", word == 0,
                 {V["rv"][t]: 0, V["ret_sys"][t]: self.L(f"{at}.after")}, "k:fw.entry",
                 UF("worker wait", "futex still 0 (signal, spurious): FUTEX_WAIT again"))

    def pick_waiter(self, t: int, who: str, at: str, to: str, skip: str | None) -> None:
        waitq, tgt = self.g["waitq"], self.V["tgt"][t]
        others = [w for w in self.workers if w != t]
        for w in others:
            bit = self.ready_bit(w)
            self.act(f"{who}.wake.pick_waiter", t, "U", at, (waitq & bit) != 0,
                     {waitq: waitq - bit, tgt: w + 1}, to,
                     UF(who, "take a waiting worker W2 off the waiters set"), worker=w)
        if skip is not None:
            none = And(*[(waitq & self.ready_bit(w)) == 0 for w in others])
            self.act(f"{who}.wake.no_waiter", t, "U", at, none, {}, skip,
                     UF(who, "no waiting worker: skip"))

    def futex_wake_call(self, t: int, who: str, at: str, ret: str) -> None:
        V, tgt = self.V, self.V["tgt"][t]
        for w in (w for w in self.workers if w != t):
            self.act(f"{who}.wake.set_futex", t, "U", at, tgt == w + 1,
                     {V["futex"][w]: 1, V["ret_sys"][t]: self.L(ret)},
                     self.enter(t, at, "k:fwk.entry") if who == "worker" else "k:fwk.entry",
                     UF(who, "W2.futex = 1; FUTEX_WAKE(&W2.futex, 1)"), worker=w)

    def op_wake(self, t: int, at: str, nxt_op: str) -> None:
        """WAKE of a waiting worker W2: FUTEX_WAKE instead of UMCG_WAIT_WAKE_ONLY."""
        self.pick_waiter(t, "worker", at, f"{at}.set", nxt_op)
        self.futex_wake_call(t, "worker", f"{at}.set", f"{at}.after")
        rv = self.V["rv"][t]
        self.act("worker.wake.returned", t, "U", f"{at}.after", rv == OK, {}, nxt_op,
                 UF("worker", "FUTEX_WAKE returned"))

    def server(self, t: int) -> None:
        super().server(t)
        # The server also wakes waiting workers (their wait ends in the idle-workers list);
        # it goes idle only when nobody is ready and nobody waits.
        drop_actions(self.spec, t, {"server.no_ready_worker"})
        g = self.g
        self.act("server.no_ready_worker", t, "U", "u:srv.pick",
                 And(g["runq"] == 0, g["waitq"] == 0), {}, "u:srv.idle.self_idle",
                 UF("server loop", "3: nothing to run and no waiter to wake"))
        self.pick_waiter(t, "server", "u:srv.pick", "u:srv.fwake", None)
        self.futex_wake_call(t, "server", "u:srv.fwake", "u:srv.loop")

