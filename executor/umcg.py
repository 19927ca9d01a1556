"""The v0.2 kernel side, function for function (patch 3/3 kernel/sched/umcg.c and the hooks in
kernel/sched/core.c; patch 2/3 kernel/sched/umcg.h for the stacks; semantics §2.4-§2.8).

Each block between `k.gate(t)` and `k.done(...)` is one atomic step: one access to user
memory, one set_current_state, one schedule() decision or one try_to_wake_up.  The string
given to `done` is the step's name in the trace vocabulary; the comment above it is the
patch line it mirrors.  Program positions are the vocabulary's pc labels ("k:..." kernel)."""

from __future__ import annotations

from executor.kernel import (
    EAGAIN,
    EFAULT,
    EINTR,
    EINVAL,
    ESRCH,
    TASK_INTERRUPTIBLE,
    TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
    Kernel,
    TaskStruct,
)
from executor.memory import (
    UMCG_TASK_BLOCKED,
    UMCG_TASK_IDLE,
    UMCG_TASK_RUNNING,
    UMCG_TF_LOCKED,
    UMCG_TF_STATE_MASK,
)

UMCG_WAIT_WAKE_ONLY = 1


def ret_to_user(k: Kernel, t: TaskStruct, rv: int, action: str, **frame: int) -> int:
    """Syscall exit: the return value to user space; pending signals are delivered on the
    way (exit_to_user_mode), so the task is back in user space without one."""
    with k.cv:
        t.sigpending = False
    ret = t.frame.ret_sys
    k.done(t, action, ret, rv=rv, ret_sys="-", **frame)
    return rv


# ---------------------------------------------------------------- sys_umcg_ctl (§2.5)
def sys_umcg_ctl_register(k: Kernel, t: TaskStruct) -> None:
    """sys_umcg_ctl(UMCG_CTL_REGISTER [| UMCG_CTL_WORKER], self)."""
    k.gate(t)
    # step 7/8: copy_from_user(&ut, self); the state must be IDLE (worker) / RUNNING (server)
    state = k.mem.load(t.state_addr)
    if t.role == "server":
        if state != UMCG_TASK_RUNNING:
            k.abort(t, "sys_umcg_ctl.register_einval")
        # step 8: current->umcg_task = self; return 0
        t.umcg_task = t.addr
        k.done(t, "sys_umcg_ctl.register_server", "u:srv.loop")
        return
    if state != UMCG_TASK_IDLE:
        k.abort(t, "sys_umcg_ctl.register_einval")
    # step 7: current->umcg_task = self; current->flags |= PF_UMCG_WORKER;
    # umcg_wq_worker_running(current), which may sleep in the nested idle loop
    t.umcg_task = t.addr
    t.pf_umcg_worker = True
    k.done(t, "sys_umcg_ctl.register_worker", "k:wqr.entry", ret_k="k:wrk.registered")
    umcg_wq_worker_running(k, t)
    k.gate(t)
    # step 7: return 0 -- also when a signal cut the nested idle loop short; the signal is
    # delivered on the way out
    with k.cv:
        t.sigpending = False
    k.done(t, "sys_umcg_ctl.register_return", "u:wrk.reg.check")


def sys_umcg_ctl_unregister(k: Kernel, t: TaskStruct, next_pc: str) -> None:
    """sys_umcg_ctl(UMCG_CTL_UNREGISTER)."""
    k.gate(t)
    if not t.umcg_task:
        # step 1: not registered: -EINVAL (the protocol has no answer for it)
        k.abort(t, "sys_umcg_ctl.unregister_einval")
    # step 1: current->flags &= ~PF_UMCG_WORKER; current->umcg_task = NULL
    t.pf_umcg_worker = False
    t.umcg_task = 0
    k.done(t, "sys_umcg_ctl.unregister", next_pc)


# ---------------------------------------------------------------- sys_umcg_wait (§2.6)
def sys_umcg_wait(k: Kernel, t: TaskStruct, flags: int) -> int:
    """sys_umcg_wait(flags, timeout = 0); returns what user space sees."""
    if flags & UMCG_WAIT_WAKE_ONLY:
        return _sys_umcg_wait_wake_only(k, t)
    k.gate(t)
    if not t.umcg_task:
        # step 1: self = current->umcg_task; if (!self) return -EINVAL
        return ret_to_user(k, t, EINVAL, "sys_umcg_wait.einval_not_umcg")
    # step 2: get_user(next_tid, &self->next_tid) (the caller's own word)
    next_tid = k.mem.load(t.next_tid_addr)
    if next_tid:
        # step 6: if (next_tid) return umcg_do_context_switch(next_tid, ...)
        k.done(t, "sys_umcg_wait.swap_next_tid", "k:wait.ctx", tgt=next_tid)
        return umcg_do_context_switch(k, t)
    server_tid = k.mem.load(t.server_tid_addr)
    if t.pf_umcg_worker and server_tid:
        # step 5: a worker with next_tid == 0 switches to its server: next_tid = server_tid
        k.done(t, "sys_umcg_wait.worker_to_server_tid", "k:wait.ctx", tgt=server_tid)
        return umcg_do_context_switch(k, t)
    # step 7: return umcg_idle_loop(self, timeout)
    k.done(t, "sys_umcg_wait.wait", "k:idle.entry")
    return umcg_idle_loop(k, t)


def umcg_do_context_switch(k: Kernel, t: TaskStruct) -> int:
    k.gate(t)
    # next = find_task_by_vpid(next_tid); if (!next) return -ESRCH
    nxt = k.find_task_by_vpid(t.frame.tgt)
    if nxt is None:
        return ret_to_user(k, t, ESRCH, "umcg_do_context_switch.esrch", tgt=0)
    # if (!try_to_wake_up(next, TASK_NORMAL, WF_CURRENT_CPU)) { cpu_relax(); return -EAGAIN }
    if not k.try_to_wake_up(nxt):
        return ret_to_user(k, t, EAGAIN, "umcg_do_context_switch.ttwu_failed_eagain", tgt=0)
    # return umcg_idle_loop(self, timeout)
    k.done(t, "umcg_do_context_switch.ttwu_ok", "k:idle.entry", tgt=0)
    return umcg_idle_loop(k, t)


def _sys_umcg_wait_wake_only(k: Kernel, t: TaskStruct) -> int:
    k.gate(t)
    if not t.umcg_task:
        # step 1: if (!self) return -EINVAL
        return ret_to_user(k, t, EINVAL, "sys_umcg_wait.wake_only_einval_not_umcg")
    # step 2: get_user(next_tid, &self->next_tid)
    next_tid = k.mem.load(t.next_tid_addr)
    if not next_tid:
        # step 3: WAKE_ONLY without next_tid: -EINVAL
        return ret_to_user(k, t, EINVAL, "sys_umcg_wait.wake_only_einval_no_next")
    return umcg_do_wake(k, t, next_tid)


def umcg_do_wake(k: Kernel, t: TaskStruct, next_tid: int) -> int:
    """umcg_do_wake(next_tid, wf_current_cpu), in the step sys_umcg_wait read next_tid."""
    nxt = k.find_task_by_vpid(next_tid)
    # if (!next || !next->umcg_task) return -ESRCH
    if nxt is None or not nxt.umcg_task:
        return ret_to_user(k, t, ESRCH, "umcg_do_wake.esrch")
    # if (!try_to_wake_up(next, TASK_NORMAL, wf)) { cpu_relax(); return -EAGAIN }
    if not k.try_to_wake_up(nxt):
        return ret_to_user(k, t, EAGAIN, "umcg_do_wake.ttwu_failed_eagain")
    return ret_to_user(k, t, 0, "umcg_do_wake.ttwu_ok")


def umcg_idle_loop(k: Kernel, t: TaskStruct) -> int:
    """umcg_idle_loop(self, 0) as entered from sys_umcg_wait."""
    k.gate(t)
    if not t.pf_umcg_worker:
        # if (current->flags & PF_UMCG_WORKER) { ...unlock... } -- a server skips it
        k.done(t, "umcg_idle_loop.not_worker", "k:idle.set")
    else:
        # get_user(state, &self->state)
        state = k.mem.load(t.state_addr)
        if not state & UMCG_TF_LOCKED:
            k.done(t, "umcg_idle_loop.read_state_unlocked", "k:idle.set")
        else:
            k.done(t, "umcg_idle_loop.read_state_locked", "k:idle.unlock", prev=state)
            k.gate(t)
            # cmpxchg_user_32(&self->state, &state, state & ~UMCG_TF_LOCKED); any failure
            # (-EAGAIN included) is returned as -EFAULT
            prev = t.frame.prev
            if not k.mem.cmpxchg(t.state_addr, prev, prev & ~UMCG_TF_LOCKED):
                return ret_to_user(k, t, EFAULT, "umcg_idle_loop.unlock_cmpxchg_failed_efault",
                                   prev=0)
            k.done(t, "umcg_idle_loop.unlock_cmpxchg_ok", "k:idle.set", prev=0)
    while True:
        k.gate(t)
        # set_current_state(TASK_INTERRUPTIBLE); freezable_schedule()
        k.set_current_state(t, TASK_INTERRUPTIBLE)
        k.done(t, "umcg_idle_loop.set_current_state", "k:sched.entry", ret_k="k:idle.after")
        schedule(k, t)
        k.gate(t)
        # if (signal_pending(current)) return -EINTR
        if t.sigpending:
            return ret_to_user(k, t, EINTR, "umcg_idle_loop.signal_pending_eintr")
        # get_user(state, &self->state); if ((state & UMCG_TF_STATE_MASK) == RUNNING) return 0
        state = k.mem.load(t.state_addr)
        if state & UMCG_TF_STATE_MASK == UMCG_TASK_RUNNING:
            return ret_to_user(k, t, 0, "umcg_idle_loop.state_running_return")
        k.done(t, "umcg_idle_loop.state_not_running_loop", "k:idle.set")


# ------------------------------------------------------------- schedule() (core.c, §2.7)
def schedule(k: Kernel, t: TaskStruct) -> None:
    """schedule(): sched_submit_work(), __schedule(), sched_update_worker().  Returns to
    the point saved in ret_k."""
    k.gate(t)
    if t.role == "worker" and t.kstate != TASK_RUNNING and t.pf_umcg_worker:
        # sched_submit_work: if (!task_is_running(tsk) && tsk->flags & PF_UMCG_WORKER)
        #   umcg_wq_worker_sleeping(tsk)  (with preemption disabled)
        k.done(t, "sched_submit_work.umcg_wq_worker_sleeping", "k:wqs.read")
        umcg_wq_worker_sleeping(k, t)
    else:
        k.done(t, "sched_submit_work.skip", "k:sched.sleep")
    # __schedule(): deactivate the task unless it is running (or signalled, interruptible)
    k.sleep(t)
    if t.role == "worker" and t.pf_umcg_worker:
        # sched_update_worker: if (tsk->flags & PF_UMCG_WORKER) umcg_wq_worker_running(tsk)
        k.set_current_state(t, TASK_RUNNING)
        k.done(t, "__schedule.return.umcg_wq_worker_running", "k:wqr.entry")
        umcg_wq_worker_running(k, t)
        return
    k.set_current_state(t, TASK_RUNNING)
    k.done(t, "__schedule.return", t.frame.ret_k, ret_k="-")


# ------------------------------------------------ block detection (umcg.c, §2.8)
def umcg_wq_worker_sleeping(k: Kernel, t: TaskStruct) -> None:
    """umcg_wq_worker_sleeping(tsk) -> wq_worker_change_state(tsk, sleeping = true)."""
    wc = "wq_worker_change_state.sleeping"
    k.gate(t)
    # step 1: umcg_get_user_32(&ut->state, &prev)
    prev = k.mem.load(t.state_addr)
    if prev & UMCG_TF_LOCKED:
        # step 2: if (prev & UMCG_TF_LOCKED) return false
        k.done(t, f"{wc}.locked_return", "k:sched.sleep")
        return
    if prev & UMCG_TF_STATE_MASK != UMCG_TASK_RUNNING:
        # step 3: if ((prev & UMCG_TF_STATE_MASK) != UMCG_TASK_RUNNING) return false
        k.done(t, f"{wc}.not_running_return", "k:sched.sleep")
        return
    k.done(t, f"{wc}.read_running", "k:wqs.cmpxchg", prev=prev)
    k.gate(t)
    # steps 5-6: next = (prev & ~UMCG_TF_STATE_MASK) | BLOCKED; cmpxchg_user_32(state, prev,
    # next); failure: umcg_die()
    prev = t.frame.prev
    nxt = (prev & ~UMCG_TF_STATE_MASK) | UMCG_TASK_BLOCKED
    if not k.mem.cmpxchg(t.state_addr, prev, nxt):
        k.die(t, f"{wc}.cmpxchg_failed_die")
    k.done(t, f"{wc}.cmpxchg_blocked", "k:wqs.server", prev=0)
    k.gate(t)
    # umcg_wq_worker_sleeping step 2: umcg_get_user_32(&ut->server_tid, &server_tid)
    server_tid = k.mem.load(t.server_tid_addr)
    if not server_tid:
        k.done(t, "umcg_wq_worker_sleeping.no_server", "k:sched.sleep")
        return
    # wake_server(NULL, server_tid)
    k.done(t, "umcg_wq_worker_sleeping.read_server_tid", "k:wqs.ws.cmpxchg", tid=server_tid)
    wake_server(k, t, None, "k:wqs.ws", "k:sched.sleep")


def wake_server(k: Kernel, t: TaskStruct, ut_server: TaskStruct | None, pre: str,
                out: str) -> None:
    """wake_server(ut_server, server_tid): cmpxchg the server IDLE -> RUNNING, then
    umcg_do_wake_loop(server_tid).  From the sleeping hook the struct is found by TID
    (ut_server NULL); from the running hook it is the popped server (container_of)."""
    k.gate(t)
    if ut_server is None:
        # if (!ut_server) { tsk = find_task_by_vpid(server_tid); ut_server = tsk->umcg_task }
        srv = k.find_task_by_vpid(t.frame.tid)
        if srv is None or not srv.umcg_task:
            # if (!ut_server) return false -> the caller calls umcg_die()
            k.die(t, "wake_server.no_umcg_task_die")
        ut_server = srv
    # cmpxchg_user_32(&ut_server->state, IDLE, RUNNING); failure: return false -> umcg_die
    if not k.mem.cmpxchg(ut_server.state_addr, UMCG_TASK_IDLE, UMCG_TASK_RUNNING):
        k.die(t, "wake_server.cmpxchg_failed_die")
    k.done(t, "wake_server.cmpxchg_idle_running", f"{pre}.loop", tgt=0)
    while True:
        k.gate(t)
        # umcg_do_wake_loop(server_tid): umcg_do_wake() until it is not -EAGAIN
        srv = k.find_task_by_vpid(t.frame.tid)
        if srv is None or not srv.umcg_task:
            # -ESRCH: wake_server returns false, the caller dies
            k.die(t, "umcg_do_wake_loop.esrch_die")
        if k.try_to_wake_up(srv):
            k.done(t, "umcg_do_wake_loop.ttwu_ok", out, tid=0)
            return
        # -EAGAIN: cpu_relax(); continue  (the patch's TODO: a possible soft lockup)
        k.done(t, "umcg_do_wake_loop.ttwu_failed_spin", f"{pre}.loop")


# ------------------------------------------------- wake detection (umcg.c, §2.8)
def _out(k: Kernel, t: TaskStruct, action: str, **frame: int) -> None:
    """`out:` of umcg_wq_worker_running: current->flags |= PF_UMCG_WORKER, return.  When
    the hook ran on the return to user mode (a preemption), pending signals are
    delivered there."""
    ret = t.frame.ret_k
    t.pf_umcg_worker = True
    if ret.startswith("u:"):
        with k.cv:
            t.sigpending = False
    k.done(t, action, ret, ret_k="-", **frame)


def umcg_wq_worker_running(k: Kernel, t: TaskStruct) -> None:
    """umcg_wq_worker_running(tsk), steps 1-4; returns to the point saved in ret_k."""
    wc = "wq_worker_change_state.running"
    fn = "umcg_wq_worker_running"
    k.gate(t)
    # step 1: current->flags &= ~PF_UMCG_WORKER (no recursion through schedule());
    # wq_worker_change_state(false): umcg_get_user_32(&ut->state, &prev)
    prev = k.mem.load(t.state_addr)
    if prev & UMCG_TF_LOCKED:
        # if (prev & UMCG_TF_LOCKED) return false -> goto out
        _out(k, t, f"{wc}.locked_out")
        return
    t.pf_umcg_worker = False
    if prev & UMCG_TF_STATE_MASK == UMCG_TASK_RUNNING:
        k.done(t, f"{wc}.read_running", "k:wqr.server", prev=prev)
        k.gate(t)
        # step 4: a RUNNING worker with a server passes through; without one it is made IDLE
        if k.mem.load(t.server_tid_addr):
            _out(k, t, f"{wc}.pass_through", prev=0)
            return
        k.done(t, f"{wc}.no_server", "k:wqr.cmpxchg")
    else:
        k.done(t, f"{wc}.read_not_running", "k:wqr.cmpxchg", prev=prev)
    k.gate(t)
    # steps 5-6: cmpxchg_user_32(&ut->state, prev, (prev & ~STATE_MASK) | IDLE); else die
    prev = t.frame.prev
    if not k.mem.cmpxchg(t.state_addr, prev, (prev & ~UMCG_TF_STATE_MASK) | UMCG_TASK_IDLE):
        k.die(t, f"{wc}.cmpxchg_failed_die")
    k.done(t, f"{wc}.cmpxchg_idle", "k:wqr.iw_head", prev=0)
    k.gate(t)
    # step 2: get_user(head, &ut->idle_workers_ptr); if (!head) goto die
    head = k.mem.load(t.idle_workers_ptr)
    if not head:
        k.die(t, f"{fn}.idle_workers_ptr_null_die")
    k.done(t, f"{fn}.read_idle_workers_ptr", "k:wqr.push.read", head=head)
    # atomic_stack_push_user(head, &ut->idle_workers_ptr)
    atomic_stack_push_user(k, t, t.idle_workers_ptr, "k:wqr.push", "k:wqr.is_head",
                           "atomic_stack_push_user")
    k.gate(t)
    # step 3: get_user(head, &ut->idle_servers_ptr); if (head) atomic_stack_pop_user(...)
    head = k.mem.load(t.idle_servers_ptr)
    if not head:
        # popped_server stays uninitialised in the patch; taken as 0 (model decision 2)
        k.done(t, f"{fn}.idle_servers_ptr_null", "k:hidle.set")
    else:
        k.done(t, f"{fn}.read_idle_servers_ptr", "k:wqr.pop.read", head=head)
        atomic_stack_pop_user(k, t, "k:wqr.pop", "k:wqr.popped", "atomic_stack_pop_user")
        k.gate(t)
        popped = t.frame.first
        if not popped:
            k.done(t, f"{fn}.no_idle_server", "k:hidle.set")
        else:
            # ut_server = container_of(popped_server, struct umcg_task, idle_servers_ptr)
            srv = next((u for u in k.tasks if u.idle_servers_ptr == popped), None)
            if srv is None:
                k.die(t, f"{fn}.popped_not_a_server_die")
            # wake_server(ut_server, 0): get_user(server_tid, &ut_server->server_tid)
            server_tid = k.mem.load(srv.server_tid_addr)
            k.done(t, "wake_server.read_server_tid", "k:wqr.ws.cmpxchg", first=0,
                   tgt=srv.tid, tid=server_tid)
            wake_server(k, t, srv, "k:wqr.ws", "k:hidle.set")
    # step 4: umcg_idle_loop(ut, 0) -- PF_UMCG_WORKER is clear: no unlock, no hooks
    while True:
        k.gate(t)
        k.set_current_state(t, TASK_INTERRUPTIBLE)
        k.done(t, "umcg_idle_loop.nested.set_current_state", "k:hidle.sleep")
        k.sleep(t)
        k.set_current_state(t, TASK_RUNNING)
        if t.sigpending:
            # -EINTR from the nested loop is ignored: goto out
            _out(k, t, "umcg_idle_loop.nested.signal_pending_out")
            return
        if k.mem.load(t.state_addr) & UMCG_TF_STATE_MASK == UMCG_TASK_RUNNING:
            _out(k, t, "umcg_idle_loop.nested.state_running_out")
            return
        k.done(t, "umcg_idle_loop.nested.state_not_running_loop", "k:hidle.set")


# --------------------------------------------------- the stacks (umcg.h, §2.4)
def atomic_stack_push_user(k: Kernel, t: TaskStruct, node: int, pre: str, out: str,
                           fn: str, **at_end: object) -> None:
    """atomic_stack_push_user(head, node); the head address is in the frame's `head`."""
    while True:
        k.gate(t)
        # step 1: get_user(first, head); step 2: if (first & 1) { cpu_relax(); retry }
        first = k.mem.load(t.frame.head)
        if first & 1:
            k.done(t, f"{fn}.head_locked_spin", f"{pre}.read")
            continue
        k.done(t, f"{fn}.read_head", f"{pre}.write", first=first)
        k.gate(t)
        # step 3: put_user(first, node)
        k.mem.store(node, t.frame.first)
        k.done(t, f"{fn}.write_node", f"{pre}.cas")
        k.gate(t)
        # step 4: cmpxchg_user_64(head, &first, node); -EAGAIN: retry from step 1
        if k.mem.cmpxchg(t.frame.head, t.frame.first, node):
            k.done(t, f"{fn}.cmpxchg_ok", out, first=0, head=0, **at_end)
            return
        k.done(t, f"{fn}.cmpxchg_eagain", f"{pre}.read", first=0)


def atomic_stack_pop_user(k: Kernel, t: TaskStruct, pre: str, out: str, fn: str) -> int:
    """atomic_stack_pop_user(head, &value); leaves the popped node in the frame's `first`.
    A failing unlock cmpxchg returns -EFAULT, which the kernel caller answers with
    umcg_die() and the user-space caller with abort()."""
    while True:
        k.gate(t)
        # step 1: get_user(first, head); step 2: if (!first) { *value = 0; return 0 }
        first = k.mem.load(t.frame.head)
        if not first:
            k.done(t, f"{fn}.empty", out, first=0, head=0)
            return 0
        if first & 1:
            # step 3: the head is locked by another pop: cpu_relax(), retry
            k.done(t, f"{fn}.head_locked_spin", f"{pre}.read")
            continue
        k.done(t, f"{fn}.read_head", f"{pre}.lock", first=first)
        k.gate(t)
        # step 4: cmpxchg_user_64(head, &first, first | 1); -EAGAIN: retry
        if not k.mem.cmpxchg(t.frame.head, t.frame.first, t.frame.first | 1):
            k.done(t, f"{fn}.lock_cmpxchg_eagain", f"{pre}.read", first=0)
            continue
        k.done(t, f"{fn}.lock_cmpxchg_ok", f"{pre}.next")
        k.gate(t)
        # step 5: get_user(next, first)
        nxt = k.mem.load(t.frame.first)
        k.done(t, f"{fn}.read_next", f"{pre}.unlock", next=nxt)
        k.gate(t)
        # step 6: cmpxchg_user_64(head, first | 1, next); failure: -EFAULT
        if not k.mem.cmpxchg(t.frame.head, t.frame.first | 1, t.frame.next):
            if fn.startswith("atomic"):
                k.die(t, f"{fn}.unlock_cmpxchg_efault", next=0)
            k.abort(t, f"{fn}.unlock_cmpxchg_efault", next=0)
        k.done(t, f"{fn}.unlock_cmpxchg_ok", out, next=0, head=0)
        return t.frame.first


# ------------------------------------------------ a blocking syscall (environment, §2.7)
def blocking_io_syscall(k: Kernel, t: TaskStruct, ret_pc: str) -> int:
    """A syscall that waits for an I/O: wait_event() in TASK_UNINTERRUPTIBLE; the
    environment's I/O completion is wake_up() = try_to_wake_up(TASK_NORMAL)."""
    k.gate(t)
    # prepare_to_wait(TASK_UNINTERRUPTIBLE); the I/O is not done yet; schedule()
    t.io = "pending"
    k.set_current_state(t, TASK_UNINTERRUPTIBLE)
    k.done(t, "io.prepare_to_wait", "k:sched.entry", ret_k="k:io.after", ret_sys=ret_pc)
    while True:
        schedule(k, t)
        k.gate(t)
        if t.io == "done":
            t.io = "none"
            return ret_to_user(k, t, 0, "io.done_return")
        k.set_current_state(t, TASK_UNINTERRUPTIBLE)
        k.done(t, "io.not_done_sleep_again", "k:sched.entry", ret_k="k:io.after")
