"""Two small real programs written against the executor's API as a scheduler author would
write them against the v0.2 patch: a producer/consumer that hands each item over by a
worker-to-worker swap, and a mutex whose unlock hands the lock to a waiter and wakes it.

The model has no statement of these programs, so their executions are not conformance-
checked; each checks its own result (every item consumed once and in order; mutual
exclusion and no lost update), and the run reports how each execution ended."""

from __future__ import annotations

from collections.abc import Callable

from executor.kernel import Kernel, TaskStruct
from executor.memory import UMCG_TASK_IDLE, UMCG_TASK_RUNNING
from executor.umcg import sys_umcg_wait
from executor.userspace import (
    op_swap,
    op_yield,
    register_worker,
    wait_result,
    wake_worker,
    worker_exit,
)

# user memory of the programs, beside the UMCG words
SLOT_ADDR = 0x1100      # the producer/consumer's one-item buffer (0: empty)
MUTEX_ADDR = 0x1140     # owner TID in bits 0-15, one waiter bit per worker from bit 16
COUNTER_ADDR = 0x1148   # what the critical section increments (non-atomically)
INSIDE_ADDR = 0x1150    # the TID inside the critical section, 0 if none

ITEMS = 3
ROUNDS = 2
OWNER = 0xFFFF


def _results(k: Kernel) -> dict:
    r = getattr(k, "results", None)
    if r is None:
        r = k.results = {"consumed": [], "errors": []}  # type: ignore[attr-defined]
    return r


# ----------------------------------------------------------------- producer/consumer
def _wait_for(k: Kernel, t: TaskStruct, at: str, ready: Callable[[int], bool],
              partner: TaskStruct) -> None:
    """Until the slot is as we need it, hand the CPU to the partner by a swap (or, when
    the partner is not on the ready set yet, yield to the server)."""
    while True:
        k.gate(t)
        ok = ready(k.mem.load(SLOT_ADDR))
        k.done(t, "pc.check_slot", "u:pc.go" if ok else f"{at}.swap")
        if ok:
            return
        if not op_swap(k, t, f"{at}.swap", f"{at}.check", among=[partner]):
            op_yield(k, t, f"{at}.check", f"{at}.check")


def producer(k: Kernel, t: TaskStruct) -> None:
    consumer = k.workers[1]
    register_worker(k, t, "u:pc.put")
    for i in range(1, ITEMS + 1):
        _wait_for(k, t, "u:pc.put", lambda x: x == 0, consumer)
        k.gate(t)
        k.mem.store(SLOT_ADDR, i)
        k.done(t, "pc.put", "u:pc.put")
    _wait_for(k, t, "u:pc.put", lambda x: x == 0, consumer)
    worker_exit(k, t)


def consumer(k: Kernel, t: TaskStruct) -> None:
    prod = k.workers[0]
    register_worker(k, t, "u:pc.get")
    got = _results(k)["consumed"]
    while len(got) < ITEMS:
        _wait_for(k, t, "u:pc.get", lambda x: x != 0, prod)
        k.gate(t)
        got.append(k.mem.xchg(SLOT_ADDR, 0))
        k.done(t, "pc.take", "u:pc.get")
    worker_exit(k, t)


def check_producer_consumer(k: Kernel) -> list[str]:
    got = _results(k)["consumed"]
    return [] if got == list(range(1, ITEMS + 1)) else [f"consumed {got}"]


# ----------------------------------------------------------------------------- mutex
def _waiter_bit(k: Kernel, w: TaskStruct) -> int:
    return 1 << (16 + w.index - k.opts.servers)


def mutex_lock(k: Kernel, t: TaskStruct, at: str) -> None:
    m = k.mem
    while True:
        k.gate(t)
        old = m.load(MUTEX_ADDR)
        k.done(t, "mutex.lock.read", f"{at}.cas")
        k.gate(t)
        if not old & OWNER:
            ok = m.cmpxchg(MUTEX_ADDR, old, old | t.tid)
            k.done(t, "mutex.lock.acquire", "u:mx.cs" if ok else at)
            if ok:
                return
            continue
        # publish ourselves as a waiter only if the lock is still held as we saw it
        ok = m.cmpxchg(MUTEX_ADDR, old, old | _waiter_bit(k, t))
        k.done(t, "mutex.lock.enqueue_waiter", f"{at}.sleep" if ok else at)
        if ok:
            break
    # committed: sleep until the unlocker has handed the lock to us and woken us
    while True:
        _sleep_as_waiter(k, t, f"{at}.sleep")
        k.gate(t)
        mine = m.load(MUTEX_ADDR) & OWNER == t.tid
        k.done(t, "mutex.lock.check_owner", "u:mx.cs" if mine else f"{at}.sleep")
        if mine:
            return


def _sleep_as_waiter(k: Kernel, t: TaskStruct, at: str) -> None:
    """IDLE, give the CPU back to our server (as a yield does, but off the ready set:
    only the unlock makes us runnable again), sys_umcg_wait."""
    m = k.mem
    k.gate(t)
    m.store(t.state_addr, UMCG_TASK_IDLE)
    k.done(t, "mutex.wait.set_self_idle", f"{at}.server")
    k.gate(t)
    srv = k.by_tid.get(m.load(t.server_tid_addr))
    if srv is not None:
        m.store(srv.state_addr, UMCG_TASK_RUNNING)
    m.store(t.next_tid_addr, 0)
    k.done(t, "mutex.wait.set_server_running", "k:wait.entry", ret_sys=f"{at}.after")
    wait_result(k, t, at, f"{at}.woken", sys_umcg_wait(k, t, 0))


def mutex_unlock(k: Kernel, t: TaskStruct, at: str, nxt: str) -> None:
    m = k.mem
    while True:
        k.gate(t)
        old = m.load(MUTEX_ADDR)
        k.done(t, "mutex.unlock.read", f"{at}.cas")
        waiters = [w for w in k.workers if old & _waiter_bit(k, w)]
        k.gate(t)
        if not waiters:
            ok = m.cmpxchg(MUTEX_ADDR, old, 0)
            k.done(t, "mutex.unlock.release", nxt if ok else at)
            if ok:
                return
            continue
        w = k.choose(t, f"{t.name}.tgt", waiters)
        new = (old & ~OWNER & ~_waiter_bit(k, w)) | w.tid
        ok = m.cmpxchg(MUTEX_ADDR, old, new)
        k.done(t, "mutex.unlock.hand_over", f"{at}.wake" if ok else at, tgt=w.tid if ok else 0)
        if ok:
            # U4: W RUNNING without a server, then sys_umcg_wait(WAKE_ONLY) until it sleeps
            wake_worker(k, t, w, f"{at}.wake", nxt)
            return


def mutex_worker(k: Kernel, t: TaskStruct) -> None:
    m = k.mem
    errors = _results(k)["errors"]
    register_worker(k, t, "u:mx.lock")
    for r in range(ROUNDS):
        mutex_lock(k, t, f"u:mx.lock{r}")
        k.gate(t)
        other = m.xchg(INSIDE_ADDR, t.tid)
        if other:
            errors.append(f"{t.name} entered while tid {other} was inside")
        k.done(t, "mutex.cs.enter", "u:mx.cs.read")
        k.gate(t)
        c = m.load(COUNTER_ADDR)
        k.done(t, "mutex.cs.read", "u:mx.cs.yield")
        # give the CPU away inside the critical section, so that others contend
        op_yield(k, t, f"u:mx.cs{r}.yield", "u:mx.cs.write")
        k.gate(t)
        m.store(COUNTER_ADDR, c + 1)
        m.store(INSIDE_ADDR, 0)
        k.done(t, "mutex.cs.leave", f"u:mx.unlock{r}")
        mutex_unlock(k, t, f"u:mx.unlock{r}", f"u:mx.lock{r + 1}")
    worker_exit(k, t)


def check_mutex(k: Kernel) -> list[str]:
    errs = list(_results(k)["errors"])
    total = k.mem.load(COUNTER_ADDR)
    if total != ROUNDS * len(k.workers):
        errs.append(f"counter {total}, expected {ROUNDS * len(k.workers)} (a lost update)")
    return errs


# name -> (workers, program of worker j, result check)
WORKLOADS: dict[str, tuple[int, Callable[[int], Callable[[Kernel, TaskStruct], None]],
                           Callable[[Kernel], list[str]]]] = {
    "producer-consumer": (2, lambda j: producer if j == 0 else consumer,
                          check_producer_consumer),
    "mutex": (3, lambda j: mutex_worker, check_mutex),
}
