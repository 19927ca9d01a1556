"""The user-space programs of the v0.2 protocol (semantics §2.10; the choices the
semantics leaves open are docs/model-v0.2.md decisions 10-18): the server loop and the
worker operations block, yield, swap and wake, written against the executor's kernel as a
scheduler author would write them against the patch.  Each block between `k.gate` and
`k.done` is one user-memory access (or one syscall step the kernel takes)."""

from __future__ import annotations

from executor.kernel import EAGAIN, EINTR, Kernel, TaskStruct
from executor.memory import (
    ISH_ADDR,
    IWH_ADDR,
    RUNQ_ADDR,
    UMCG_TASK_IDLE,
    UMCG_TASK_RUNNING,
    UMCG_TF_LOCKED,
    UMCG_TF_STATE_MASK,
)
from executor.umcg import (
    UMCG_WAIT_WAKE_ONLY,
    atomic_stack_pop_user,
    atomic_stack_push_user,
    blocking_io_syscall,
    sys_umcg_ctl_register,
    sys_umcg_ctl_unregister,
    sys_umcg_wait,
)

CALL_WAIT = "k:wait.entry"


# ------------------------------------------------------------------------- server
def server(k: Kernel, t: TaskStruct) -> None:
    sys_umcg_ctl_register(k, t)
    while True:
        rv = server_round(k, t)
        if rv is None:
            continue
        server_after_wait(k, t, rv)


def server_round(k: Kernel, t: TaskStruct) -> int | None:
    """One pass of the server loop; the result of its sys_umcg_wait, or None to loop."""
    m = k.mem
    k.gate(t)
    # 1. take the whole idle-workers stack in one op: xchg(&IWH, 0)
    first = m.xchg(IWH_ADDR, 0)
    if first:
        k.done(t, "server.pop_all_idle_workers", "u:srv.walk", first=first)
        while t.frame.first:
            k.gate(t)
            node = t.frame.first
            w = next((u for u in k.workers if u.idle_workers_ptr == node), None)
            if w is None:
                k.abort(t, "server.bad_idle_worker_node")
            # next = W.idle_workers_ptr (the node's link)
            k.done(t, "server.take_idle_worker", "u:srv.restore", next=m.load(node))
            k.gate(t)
            # W.idle_workers_ptr = &IWH, before W can be pushed again (semantics §2.1)
            m.store(node, IWH_ADDR)
            k.done(t, "server.restore_idle_workers_ptr", "u:srv.enqueue")
            k.gate(t)
            # put W on the ready set (atomic or)
            m.fetch_or(RUNQ_ADDR, k.worker_bit(w))
            nxt = t.frame.next
            k.done(t, "server.enqueue_runnable", "u:srv.walk" if nxt else "u:srv.pick",
                   first=nxt, next=0)
    else:
        k.done(t, "server.idle_workers_empty", "u:srv.pick")
    k.gate(t)
    # 2. take a ready worker W (the policy chooses among the ready ones), or go idle (3.)
    w = pick_ready(k, t, [u for u in k.workers])
    if w is None:
        k.done(t, "server.no_ready_worker", "u:srv.idle.self_idle")
        return server_go_idle(k, t)
    k.done(t, "server.pick_worker", "u:srv.run.server_tid", tgt=w.tid)
    k.gate(t)
    # 2.1 W.server_tid = self
    m.store(w.server_tid_addr, t.tid)
    k.done(t, "server.set_worker_server_tid", "u:srv.run.self_idle")
    k.gate(t)
    # 2.1 self.state = IDLE; self.next_tid = W (our own word: no one else reads it)
    m.store(t.state_addr, UMCG_TASK_IDLE)
    m.store(t.next_tid_addr, w.tid)
    k.done(t, "server.set_self_idle", "u:srv.run.worker_running")
    k.gate(t)
    # 2.1 W.state = RUNNING, last, so that a W woken early sees IDLE and waits again;
    # 2.2 sys_umcg_wait(0, 0)
    m.store(w.state_addr, UMCG_TASK_RUNNING)
    k.done(t, "server.set_worker_running", CALL_WAIT, tgt=0, ret_sys="u:srv.after")
    return sys_umcg_wait(k, t, 0)


def pick_ready(k: Kernel, t: TaskStruct, among: list[TaskStruct]) -> TaskStruct | None:
    """Take one worker off the ready set, in one atomic read-modify-write of the set."""
    ready = k.mem.load(RUNQ_ADDR)
    cands = [u for u in among if ready & k.worker_bit(u)]
    if not cands:
        return None
    w = k.choose(t, f"{t.name}.tgt", cands)
    k.mem.fetch_and(RUNQ_ADDR, ~k.worker_bit(w))
    return w


def server_go_idle(k: Kernel, t: TaskStruct) -> int | None:
    m = k.mem
    k.gate(t)
    # 3.1 self.state = IDLE; next_tid = 0 (own word); push &self.idle_servers_ptr onto ISH
    m.store(t.state_addr, UMCG_TASK_IDLE)
    m.store(t.next_tid_addr, 0)
    k.done(t, "server.go_idle", "u:srv.idle.push.read", head=ISH_ADDR)
    if not k.opts.server_recheck:
        atomic_stack_push_user(k, t, t.idle_servers_ptr, "u:srv.idle.push", CALL_WAIT,
                               "server.idle_push", ret_sys="u:srv.after")
        return sys_umcg_wait(k, t, 0)
    atomic_stack_push_user(k, t, t.idle_servers_ptr, "u:srv.idle.push",
                           "u:srv.idle.recheck", "server.idle_push")
    k.gate(t)
    # 3.4 (inferred): look at IWH once more after publishing ourselves
    if not m.load(IWH_ADDR):
        k.done(t, "server.recheck_idle_workers_empty", CALL_WAIT, ret_sys="u:srv.after")
        return sys_umcg_wait(k, t, 0)
    k.done(t, "server.recheck_idle_workers_found", "u:srv.idle.undo.read", head=ISH_ADDR)
    # work appeared: pop one idle server from ISH, with the kernel's lock-bit algorithm
    atomic_stack_pop_user(k, t, "u:srv.idle.undo", "u:srv.idle.undone", "server.undo_pop")
    k.gate(t)
    popped = t.frame.first
    if not popped:
        # the kernel popped us and will wake us
        k.done(t, "server.undo_popped_none", CALL_WAIT, ret_sys="u:srv.after")
        return sys_umcg_wait(k, t, 0)
    if popped == t.idle_servers_ptr:
        # we popped ourselves: self.state = RUNNING, run the work
        m.store(t.state_addr, UMCG_TASK_RUNNING)
        k.done(t, "server.undo_popped_self", "u:srv.loop", first=0)
        return None
    other = next((u for u in k.servers if u.idle_servers_ptr == popped), None)
    if other is None:
        k.abort(t, "server.undo_bad_node")
    # hand the work to the popped server: cmpxchg(state, IDLE, RUNNING), then tgkill
    # (semantics §2.3 route (b))
    if not m.cmpxchg(other.state_addr, UMCG_TASK_IDLE, UMCG_TASK_RUNNING):
        k.done(t, "server.handoff_cmpxchg_failed", CALL_WAIT, first=0, ret_sys="u:srv.after")
        return sys_umcg_wait(k, t, 0)
    k.done(t, "server.handoff_cmpxchg_ok", "u:srv.idle.handoff", first=0, tgt=other.tid)
    k.gate(t)
    k.send_signal(other)
    k.done(t, "server.handoff_signal", CALL_WAIT, tgt=0, ret_sys="u:srv.after")
    return sys_umcg_wait(k, t, 0)


def server_after_wait(k: Kernel, t: TaskStruct, rv: int) -> None:
    """Back from sys_umcg_wait at "srv.after": 0 loops, -EAGAIN retries, -EINTR checks."""
    while True:
        k.gate(t)
        if rv == 0:
            k.done(t, "server.wait_returned", "u:srv.loop")
            return
        if rv == EAGAIN:
            # 2.4: the worker is not asleep yet: retry the same switch
            k.done(t, "server.wait_eagain_retry", CALL_WAIT, rv=0, ret_sys="u:srv.after")
        elif rv == EINTR:
            k.done(t, "server.wait_eintr", "u:srv.eintr", rv=0)
            k.gate(t)
            # -EINTR: RUNNING means someone handed us work; else wait again, next_tid = 0
            if k.mem.load(t.state_addr) & UMCG_TF_STATE_MASK == UMCG_TASK_RUNNING:
                k.done(t, "server.eintr_running", "u:srv.loop")
                return
            k.mem.store(t.next_tid_addr, 0)
            k.done(t, "server.eintr_wait_again", CALL_WAIT, ret_sys="u:srv.after")
        else:
            k.abort(t, "server.wait_unexpected_error")
        rv = sys_umcg_wait(k, t, 0)


# ------------------------------------------------------------------------- worker
def worker(k: Kernel, t: TaskStruct) -> None:
    ops = t.ops
    labels = [f"u:op{i}" for i in range(len(ops))] + ["u:exit"]
    register_worker(k, t, labels[0])
    for i, op in enumerate(ops):
        at, nxt = labels[i], labels[i + 1]
        if op == "block":
            blocking_io_syscall(k, t, nxt)
        elif op == "yield":
            op_yield(k, t, at, nxt)
        elif op == "swap":
            op_swap(k, t, at, nxt)
        elif op == "wake":
            op_wake(k, t, at, nxt)
        else:
            raise ValueError(f"unknown worker operation {op!r}")
    worker_exit(k, t)


def register_worker(k: Kernel, t: TaskStruct, first: str) -> None:
    sys_umcg_ctl_register(k, t)
    # registration returns 0 even when a signal cut its nested idle loop short
    if not resume_check(k, t, "u:wrk.reg", first):
        wait_result(k, t, "u:wrk.reg", first, sys_umcg_wait(k, t, 0))


def idle_word(k: Kernel) -> int:
    return UMCG_TASK_IDLE | UMCG_TF_LOCKED if k.opts.lock_before_wait else UMCG_TASK_IDLE


def enter_syscall(k: Kernel, t: TaskStruct, at: str, entry: str) -> str:
    """With preemption in the environment, the syscall instruction after the last store is a
    step of its own (an interrupt can land between them); without, nothing tells them
    apart and it is part of the store's step."""
    return f"{at}.call" if k.opts.preemptions else entry


def syscall_instruction(k: Kernel, t: TaskStruct, entry: str) -> None:
    if k.opts.preemptions:
        k.gate(t)
        k.done(t, "worker.enter_syscall", entry)


def self_idle_and_enqueue(k: Kernel, t: TaskStruct, at: str, op: str, nxt: str) -> None:
    """U2/U3's first two steps (after the caller's gate): self.state = IDLE (IDLE|LOCKED
    when locking before the wait), then the worker puts itself on the runnable set."""
    k.mem.store(t.state_addr, idle_word(k))
    k.done(t, f"worker.{op}.set_self_idle", f"{at}.enqueue")
    k.gate(t)
    k.mem.fetch_or(RUNQ_ADDR, k.worker_bit(t))
    k.done(t, f"worker.{op}.enqueue_self", nxt)


def op_yield(k: Kernel, t: TaskStruct, at: str, nxt: str) -> None:
    m = k.mem
    k.gate(t)
    # U2: self.state = IDLE (IDLE|LOCKED when locking before the wait)
    self_idle_and_enqueue(k, t, at, "yield", f"{at}.read_server")
    k.gate(t)
    k.done(t, "worker.yield.read_server_tid", f"{at}.wake_server",
           tid=m.load(t.server_tid_addr))
    k.gate(t)
    srv = k.by_tid.get(t.frame.tid)
    if srv is None:
        k.abort(t, "worker.yield.no_server")
    # server.state = RUNNING (a plain store); next_tid = 0 (own word); sys_umcg_wait(0, 0)
    m.store(srv.state_addr, UMCG_TASK_RUNNING)
    m.store(t.next_tid_addr, 0)
    k.done(t, "worker.yield.set_server_running", enter_syscall(k, t, at, "k:wait.entry"),
           tid=0, ret_sys=f"{at}.after")
    syscall_instruction(k, t, "k:wait.entry")
    wait_result(k, t, at, nxt, sys_umcg_wait(k, t, 0))


def op_swap(k: Kernel, t: TaskStruct, at: str, nxt: str,
            among: list[TaskStruct] | None = None) -> bool:
    """U3: switch to a ready worker (one of `among`, default any other); False when none
    is ready (the operation is skipped)."""
    m = k.mem
    k.gate(t)
    w2 = pick_ready(k, t, [u for u in k.workers if u is not t] if among is None else among)
    if w2 is None:
        k.done(t, "worker.swap.nothing_ready", nxt)
        return False
    k.done(t, "worker.swap.pick", f"{at}.read_server", tgt=w2.tid)
    k.gate(t)
    k.done(t, "worker.swap.read_server_tid", f"{at}.set_server",
           tid=m.load(t.server_tid_addr))
    k.gate(t)
    # U3: W2.server_tid = S
    m.store(w2.server_tid_addr, t.frame.tid)
    k.done(t, "worker.swap.set_target_server_tid", f"{at}.self_idle", tid=0)
    k.gate(t)
    self_idle_and_enqueue(k, t, at, "swap", f"{at}.run_target")
    k.gate(t)
    # W2.state = RUNNING; next_tid = W2 (own word); sys_umcg_wait(0, 0)
    m.store(w2.state_addr, UMCG_TASK_RUNNING)
    m.store(t.next_tid_addr, w2.tid)
    k.done(t, "worker.swap.set_target_running", enter_syscall(k, t, at, "k:wait.entry"),
           tgt=0, ret_sys=f"{at}.after")
    syscall_instruction(k, t, "k:wait.entry")
    wait_result(k, t, at, nxt, sys_umcg_wait(k, t, 0))
    return True


def op_wake(k: Kernel, t: TaskStruct, at: str, nxt: str) -> None:
    k.gate(t)
    w2 = pick_ready(k, t, [u for u in k.workers if u is not t])
    if w2 is None:
        k.done(t, "worker.wake.nothing_ready", nxt)
        return
    k.done(t, "worker.wake.pick", f"{at}.clear_server", tgt=w2.tid)
    wake_worker(k, t, w2, at, nxt)


def wake_worker(k: Kernel, t: TaskStruct, w2: TaskStruct, at: str, nxt: str) -> None:
    """U4 after the pick: make W2 RUNNING without a server and wake it (WAKE_ONLY)."""
    m = k.mem
    k.gate(t)
    # U4: W2.server_tid = 0, so that the kernel queues W2 on IWH (decision 15)
    m.store(w2.server_tid_addr, 0)
    k.done(t, "worker.wake.clear_target_server_tid", f"{at}.set_running")
    k.gate(t)
    m.store(w2.state_addr, UMCG_TASK_RUNNING)
    m.store(t.next_tid_addr, w2.tid)
    k.done(t, "worker.wake.set_target_running", enter_syscall(k, t, at, "k:wake.entry"),
           tgt=0, ret_sys=f"{at}.after")
    syscall_instruction(k, t, "k:wake.entry")
    rv = sys_umcg_wait(k, t, UMCG_WAIT_WAKE_ONLY)
    while True:
        k.gate(t)
        if rv == 0:
            m.store(t.next_tid_addr, 0)
            k.done(t, "worker.wake.returned", nxt)
            return
        if rv != EAGAIN:
            k.abort(t, "worker.wake.unexpected_error")
        k.done(t, "worker.wake.eagain_retry", "k:wake.entry", rv=0, ret_sys=f"{at}.after")
        rv = sys_umcg_wait(k, t, UMCG_WAIT_WAKE_ONLY)


def resume_check(k: Kernel, t: TaskStruct, at: str, nxt: str) -> bool:
    """After -EINTR (or registration): RUNNING carries on; else wait again, next_tid = 0."""
    k.gate(t)
    if k.mem.load(t.state_addr) & UMCG_TF_STATE_MASK == UMCG_TASK_RUNNING:
        k.done(t, "worker.resume.running", nxt)
        return True
    k.mem.store(t.next_tid_addr, 0)
    k.done(t, "worker.resume.wait_again", "k:wait.entry", ret_sys=f"{at}.after")
    return False


def wait_result(k: Kernel, t: TaskStruct, at: str, nxt: str, rv: int) -> None:
    """Back in user space after sys_umcg_wait at call site `at`."""
    while True:
        k.gate(t)
        if rv == 0:
            k.done(t, "worker.wait_returned", nxt)
            return
        if rv == EAGAIN:
            k.done(t, "worker.wait_eagain_retry", "k:wait.entry", rv=0, ret_sys=f"{at}.after")
        elif rv == EINTR:
            k.done(t, "worker.wait_eintr", f"{at}.check", rv=0)
            if resume_check(k, t, at, nxt):
                return
        else:
            k.abort(t, "worker.wait_unexpected_error")
        rv = sys_umcg_wait(k, t, 0)


def worker_exit(k: Kernel, t: TaskStruct) -> None:
    """R3: unregister, then wake the server ourselves (route (b): RUNNING + tgkill)."""
    m = k.mem
    k.gate(t)
    k.done(t, "worker.exit.read_server_tid", "u:exit.unregister", tid=m.load(t.server_tid_addr))
    sys_umcg_ctl_unregister(k, t, "u:exit.server_running")
    k.gate(t)
    srv = k.by_tid.get(t.frame.tid)
    if srv is None:
        t.exited = True
        k.release_cpu(t)
        k.done(t, "worker.exit.no_server", "done")
        return
    m.store(srv.state_addr, UMCG_TASK_RUNNING)
    k.done(t, "worker.exit.set_server_running", "u:exit.signal")
    k.gate(t)
    k.send_signal(srv)
    t.exited = True
    k.release_cpu(t)
    k.done(t, "worker.exit.signal_server", "done", tid=0)
