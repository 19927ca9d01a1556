"""Liveness properties of the v0.2 model: response properties G(P -> F Q) under fairness."""

from __future__ import annotations

from checker.liveness import LivenessProperty, Response
from model.lang import And, Expr, Or
from model.v0_2 import IO_DONE, RUNNING, Model
from properties.v0_2 import chain, on_list

# Kernel loops that only end when some other task changes something (semantics §2.4, §2.8).
SPIN_LABELS = ("k:wqs.ws.loop", "k:wqr.ws.loop", "k:wqr.push.read", "k:wqr.pop.read")

LIVENESS_NAMES = ("no_lost_wakeup", "ready_worker_runs", "no_kernel_spin",
                  "blocked_worker_returns")


def _at(m: Model, t: int, labels: tuple[str, ...]) -> Expr:
    return Or(*[m.pc(t) == m.labels.index(x) for x in labels if x in m.labels])


def runs_user_code(m: Model, w: int) -> Expr:
    return And(m.in_user(w), (m.v["state"][w] & 3) == RUNNING)


def progress(m: Model) -> Expr:
    """Some task stands where its work advances: a worker at the start of an operation,
    its exit or its end, or a server at the top of its loop."""
    labels = tuple(x for x in m.labels if x.startswith("u:op") and "." not in x)
    labels += ("u:exit", "done")
    conds = [_at(m, t.index, labels) for t in m.workers]
    conds += [_at(m, t.index, ("u:srv.loop",)) for t in m.servers]
    return Or(*conds)


def liveness_properties(m: Model) -> list[LivenessProperty]:
    V = m.v
    W = [t.index for t in m.workers]
    iw = chain(m, 1, len(W) + 1)
    done = m.labels.index("done")
    runq = m.g["runq"]

    def ready(w: int) -> Expr:
        bit = 1 << (w - len(m.servers))
        return Or(on_list(iw, 3 + 2 * w), (runq & bit) != 0)

    def served(w: int) -> Expr:
        return Or(runs_user_code(m, w), m.pc(w) == done)

    names = {t.index: t.name for t in m.tasks}
    return [
        LivenessProperty(
            "no_lost_wakeup",
            "a task whose UMCG state is RUNNING while it sleeps in the kernel is woken",
            "semantics §8 INV-8 (v0.2 relies on ttwu succeeding); issue 3",
            tuple(Response(names[t.index],
                           And((V["state"][t.index] & 3) == RUNNING, V["kstate"][t.index] != 0),
                           V["kstate"][t.index] == 0) for t in m.tasks)),
        LivenessProperty(
            "ready_worker_runs",
            "a worker on the idle-workers list or in the ready set eventually runs user code "
            "as RUNNING (work conservation)",
            "semantics §8 INV-16 (finding no idle server is a liveness duty); issue 3",
            tuple(Response(names[w], ready(w), served(w)) for w in W)),
        LivenessProperty(
            "no_kernel_spin",
            "no kernel loop (umcg_do_wake_loop's ttwu retry, the stack helpers' lock-bit spin) "
            "repeats forever",
            "semantics §2.11 (soft lockup in umcg_do_wake_loop), §2.4 (user-space spinlocks)",
            tuple(Response(names[t.index], _at(m, t.index, SPIN_LABELS),
                           _not_at(m, t.index, SPIN_LABELS))
                  for t in m.tasks if t.role == "worker")),
        LivenessProperty(
            "blocked_worker_returns",
            "a worker whose I/O completed eventually runs user code as RUNNING or is queued on "
            "the idle-workers list",
            "semantics §2.3 (BLOCKED => IDLE, pushed on idle_workers_ptr); issue 3",
            tuple(Response(names[w], V["io"][w] == IO_DONE,
                           Or(served(w), on_list(iw, 3 + 2 * w))) for w in W)),
    ]


def _not_at(m: Model, t: int, labels: tuple[str, ...]) -> Expr:
    return And(*[m.pc(t) != m.labels.index(x) for x in labels if x in m.labels])
