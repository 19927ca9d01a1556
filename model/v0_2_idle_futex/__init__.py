"""v0.2 + idle_futex_ptr (Thierry Delisle's proposal in the v0.2 thread, 2021-07-12,
``acad5960-30b2-3693-9117-e0b054ee97a7@uwaterloo.ca``): the idle-servers list is replaced by
a futex counter.  "When waking a worker, the kernel decrements the pointed to futex value if
it is non-zero and wakes a server if the decrement occurred.  Server threads that have no work
to do should increment the futex value and FUTEX_WAIT."  Everything else is v0.2.
Decisions: docs/model-v0.2-idle-futex.md."""

from __future__ import annotations

from collections.abc import Callable

from model import v0_2
from model.lang import BOOL, And, Cite, Domain
from model.v0_2 import Model, Params
from model.v0_2.builder import BuilderBase
from model.v0_2.common import IDLE, K_RUNNING, RUNNING
from model.v0_2_futex.futex import FutexMixin
from model.variant import drop_actions

VERSION = "v0.2-idle-futex"
MAIL = "Delisle, Re: [RFC PATCH 3/3 v0.2], 2021-07-12, acad5960-30b2-3693-9117-e0b054ee97a7"
CTR_MAX = 7


def P(what: str, step: str, file: str = "kernel/sched/umcg.c (proposal)") -> Cite:
    return Cite("v0.2+idle_futex_ptr", file, what, step, MAIL)


class BuilderBaseIdleFutex(BuilderBase):
    def _declare(self) -> None:
        super()._declare()
        s, names = self.spec, [t.name for t in self.tasks]
        s.name = f"umcg-{VERSION}"
        owners = list(range(self.n))
        queued = s.array("futex_queued", BOOL, [0] * self.n, owners=owners, labels=names,
                         group="kernel")
        fval = s.array("fval", Domain(0, CTR_MAX), [0] * self.n, owners=owners, labels=names,
                       group="local")
        for t in self.tasks:
            queued.elems[t.index].name = f"{t.name}.futex_queued"
            fval.elems[t.index].name = f"{t.name}.fval"
        self.V["futex_queued"], self.V["fval"] = queued.elems, fval.elems
        # *idle_futex_ptr: the count of idle servers (one word shared by the group).
        self.g["idle_futex"] = s.var("idle_futex", Domain(0, CTR_MAX), 0, group="user")


class IdleFutexMixin:
    def stack_pop(self, t: int, pre: str, actor: str, heads: list[int], done: str,
                  fail: Callable[[], dict], cite_fn: Callable[[str], Cite]) -> None:
        if actor == "K":
            return  # the kernel no longer pops idle servers
        super().stack_pop(t, pre, actor, heads, done, fail, cite_fn)

    def wake_server(self, t: int, pre: str, done: str, fn_caller: str) -> None:
        if fn_caller == "umcg_wq_worker_running":
            return  # replaced by the counter + FUTEX_WAKE below
        super().wake_server(t, pre, done, fn_caller)

    def kernel(self, t: int) -> None:
        super().kernel(t)
        if t in self.servers:
            self.futex_wait(t, self.g["idle_futex"], self.V["fval"][t], self.V["futex_queued"][t])

    def umcg_wq_worker_running(self, t: int) -> None:
        super().umcg_wq_worker_running(t)
        drop_actions(self.spec, t, {"umcg_wq_worker_running.idle_servers_ptr_null",
                                    "umcg_wq_worker_running.read_idle_servers_ptr",
                                    "umcg_wq_worker_running.no_idle_server",
                                    "wake_server.read_server_tid",
                                    "umcg_wq_worker_running.popped_not_a_server_die"})
        V, ctr = self.V, self.g["idle_futex"]
        fval = V["fval"][t]
        fn = "umcg_wq_worker_running"
        self.act(f"{fn}.idle_futex_zero", t, "K", "k:wqr.is_head", ctr == 0, {}, "k:hidle.set",
                 P(fn, "step 3: get_user(*idle_futex_ptr) == 0: no idle server"))
        self.act(f"{fn}.idle_futex_read", t, "K", "k:wqr.is_head", ctr != 0, {fval: ctr},
                 "k:wqr.ifx.cas", P(fn, "step 3: get_user(*idle_futex_ptr) != 0"))
        self.act(f"{fn}.idle_futex_dec_ok", t, "K", "k:wqr.ifx.cas", ctr == fval,
                 {ctr: fval - 1, fval: 0}, "k:wqr.ifx.wake",
                 P(fn, "step 3: cmpxchg(*idle_futex_ptr, v, v - 1) == 0"))
        self.act(f"{fn}.idle_futex_dec_eagain", t, "K", "k:wqr.ifx.cas", ctr != fval,
                 {fval: 0}, "k:wqr.is_head", P(fn, "step 3: cmpxchg -EAGAIN: read again"))
        tgt = V["tgt"][t]
        for s in self.servers:
            q = V["futex_queued"][s]
            self.act("futex_wake.mark_wake_futex", t, "K", "k:wqr.ifx.wake", q == 1,
                     {q: 0, tgt: s + 1}, "k:wqr.ifx.ttwu",
                     P("futex_wake", "step 3: hb lock: first queued waiter; mark_wake_futex",
                       "kernel/futex.c"), waiter=s)
            self.act("futex_wake.wake_up_q", t, "K", "k:wqr.ifx.ttwu", tgt == s + 1,
                     {V["kstate"][s]: K_RUNNING, tgt: 0}, "k:hidle.set",
                     P("futex_wake", "step 3: wake_up_q: try_to_wake_up", "kernel/futex.c"),
                     waiter=s)
        self.act("futex_wake.no_waiter", t, "K", "k:wqr.ifx.wake",
                 And(*[V["futex_queued"][s] == 0 for s in self.servers]), {}, "k:hidle.set",
                 P("futex_wake", "step 3: no queued waiter: nobody woken", "kernel/futex.c"))

    def server(self, t: int) -> None:
        super().server(t)
        gone = {a.name for a in self.spec.actions if a.task == t and a.name.startswith(
            ("server.go_idle", "server.idle_push", "server.recheck", "server.undo",
             "server.handoff"))}
        drop_actions(self.spec, t, gone)
        V, ctr = self.V, self.g["idle_futex"]
        fval, ret_sys = V["fval"][t], V["ret_sys"][t]
        iwh = self.mem[self.IWH]

        def c(step: str) -> Cite:
            return P("server loop", step, "user space (proposal)")

        # 3. nothing to run: self.state = IDLE, then count itself idle.  The kernel cannot
        # tell which server FUTEX_WAKE picks, so it no longer marks it RUNNING: the server
        # does that itself once it is awake.  The IDLE store is folded into the increment:
        # no other task reads an idle server's state word in this design.
        st = V["state"][t]
        self.act("server.idle_futex_inc", t, "U", "u:srv.idle.self_idle", ctr < CTR_MAX,
                 {st: IDLE, ctr: ctr + 1, fval: ctr + 1}, "u:srv.idle.recheck",
                 c("3.1: self.state = IDLE; v = atomic_add_return(1, idle_futex_ptr)"))
        self.act("server.recheck_idle_workers_empty", t, "U", "u:srv.idle.recheck", iwh == 0,
                 {ret_sys: self.L("u:srv.fw.after")}, "k:fw.entry",
                 c("3.2: IWH still empty: FUTEX_WAIT(idle_futex_ptr, v)"))
        self.act("server.recheck_idle_workers_found", t, "U", "u:srv.idle.recheck", iwh != 0,
                 {fval: 0}, "u:srv.idle.undo.read",
                 c("3.2: work appeared: take the count back (decision)"))
        self.act("server.undo_read_zero", t, "U", "u:srv.idle.undo.read", ctr == 0, {st: RUNNING},
                 "u:srv.loop", c("3.2: count is 0: a worker consumed it, a wake is coming"))
        self.act("server.undo_read", t, "U", "u:srv.idle.undo.read", ctr != 0, {fval: ctr},
                 "u:srv.idle.undo.cas", c("3.2: read the count"))
        self.act("server.undo_dec_ok", t, "U", "u:srv.idle.undo.cas", ctr == fval,
                 {ctr: fval - 1, fval: 0, st: RUNNING}, "u:srv.loop",
                 c("3.2: cmpxchg(v, v - 1) == 0; self.state = RUNNING"))
        self.act("server.undo_dec_eagain", t, "U", "u:srv.idle.undo.cas", ctr != fval,
                 {fval: 0}, "u:srv.idle.undo.read", c("3.2: cmpxchg failed: read again"))
        self.act("server.futex_wait_returned", t, "U", "u:srv.fw.after", 1,
                 {fval: 0, V["rv"][t]: 0, st: RUNNING}, "u:srv.loop",
                 c("3.3: FUTEX_WAIT returned (woken, -EAGAIN, -EINTR): self.state = RUNNING, "
                   "loop"))


class Builder(IdleFutexMixin, FutexMixin, v0_2.Builder, BuilderBaseIdleFutex):
    """v0.2's builder with the idle-servers list replaced by idle_futex_ptr."""


def build(p: Params) -> Model:
    """Build the v0.2 + idle_futex_ptr model."""
    return v0_2.build(p, Builder)

