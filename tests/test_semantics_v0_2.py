"""Guard and effect of each K and U row of semantics §2.9 (the v0.2 transition table).

Each test drives the model by named steps from the initial state (or from a state
edited by hand for a guard) and checks what the row says the step does."""

from __future__ import annotations

import pytest

from checker.sim import Sim, StepError
from model.v0_2 import IDLE, LOCKED, RUNNING, Params, build


def model(**kw):
    p = dict(servers=1, workers=1, ops=(("block",),))
    p.update(kw)
    return build(Params(**p))


@pytest.fixture
def m1():
    return model()


def registered(m) -> Sim:
    """S0 and W0 registered; W0 sits on IWH, asleep in the nested idle loop."""
    s = Sim(m.spec, m.fmt)
    s.step("S0", "sys_umcg_ctl.register_server")
    s.step("W0", "sys_umcg_ctl.register_worker")
    s.run("W0", "hidle.sleep")
    return s


def running(m, at: str = "op0") -> Sim:
    """S0 has handed the CPU to W0: W0 RUNNING in user space, S0 asleep in sys_umcg_wait."""
    s = registered(m)
    s.run("S0", "sched.sleep")
    s.run("W0", at)
    return s


def ku(s: Sim, task: str) -> list[str]:
    """The enabled kernel and user steps of a task (not the environment's)."""
    return [a.name for a in s.enabled(task) if a.actor != "E"]


# ---------------------------------------------------------------- R1-R3: sys_umcg_ctl


def test_R1_worker_register_pushes_itself_and_sleeps(m1):
    s = Sim(m1.spec, m1.fmt)
    assert "sys_umcg_ctl.register_worker" in s.names("W0")
    s.step("W0", "sys_umcg_ctl.register_worker")
    assert s["W0.umcg_task"] == 1 and s["W0.PF_UMCG_WORKER"] == 1
    assert s.show("W0.pc") == "wqr.entry"  # umcg_wq_worker_running() is called directly
    s.run("W0", "hidle.sleep")
    assert s.show("W0.state") == "IDLE"  # IDLE -> IDLE by wq_worker_change_state
    assert s.show("IWH") == "&W0.idle_workers_ptr"  # pushed on the idle-workers stack
    assert s.show("W0.idle_workers_ptr") == "NULL"  # the field is now the next link
    assert s.show("W0.__state") == "TASK_INTERRUPTIBLE"
    assert s.names("W0") == []  # asleep until someone makes it RUNNING


def test_R1_worker_register_requires_idle_word(m1):
    s = Sim(m1.spec, m1.fmt).set(W0__state=RUNNING)
    assert s.names("W0") == ["sys_umcg_ctl.register_einval"]
    s = Sim(m1.spec, m1.fmt).set(W0__state=IDLE | LOCKED)  # the whole word must be IDLE
    assert s.names("W0") == ["sys_umcg_ctl.register_einval"]


def test_R1_register_wakes_an_idle_server(m1):
    s = Sim(m1.spec, m1.fmt)
    s.step("S0", "sys_umcg_ctl.register_server")
    s.run("S0", "sched.sleep")  # nothing to do: S0 pushes itself on ISH and waits
    assert s.show("ISH") == "&S0.idle_servers_ptr" and s.show("S0.state") == "IDLE"
    s.step("W0", "sys_umcg_ctl.register_worker")
    s.run("W0", "hidle.sleep")
    assert s.show("ISH") == "NULL"  # popped by the kernel (step 3)
    assert s.show("S0.state") == "RUNNING"  # wake_server: cmpxchg IDLE -> RUNNING
    assert s.show("S0.__state") == "TASK_RUNNING"  # and ttwu


def test_R2_server_register_requires_running(m1):
    s = Sim(m1.spec, m1.fmt)
    assert s.names("S0") == ["sys_umcg_ctl.register_server"]
    s.step("S0", "sys_umcg_ctl.register_server")
    assert s["S0.umcg_task"] == 1 and s["S0.PF_UMCG_WORKER"] == 0
    s = Sim(m1.spec, m1.fmt).set(S0__state=IDLE)
    assert s.names("S0") == ["sys_umcg_ctl.register_einval"]


def test_R3_unregister_clears_registration_then_wakes_server():
    m = model(ops=((),))
    s = running(m, "exit")
    assert s.show("W0.pc") == "exit"
    s.step("W0", "worker.exit.read_server_tid")
    s.step("W0", "sys_umcg_ctl.unregister")
    assert s["W0.umcg_task"] == 0 and s["W0.PF_UMCG_WORKER"] == 0
    s.step("W0", "worker.exit.set_server_running")
    assert s.show("S0.state") == "RUNNING"
    assert s.show("S0.__state") == "TASK_INTERRUPTIBLE"
    s.step("W0", "worker.exit.signal_server")  # U7 route: state RUNNING, then a signal
    assert s["S0.sigpending"] == 1 and s.show("S0.__state") == "TASK_RUNNING"
    s.run("S0", "srv.after")
    assert s.show("S0.rv") == "-EINTR"


# ---------------------------------------------------------------- U1: server runs a worker


def test_U1_server_takes_idle_worker_and_swaps(m1):
    s = registered(m1)
    s.step("S0", "server.pop_all_idle_workers")
    assert s.show("IWH") == "NULL"
    s.step("S0", "server.take_idle_worker", worker=1)
    s.step("S0", "server.restore_idle_workers_ptr", worker=1)
    assert s.show("W0.idle_workers_ptr") == "&IWH"  # pointed back at the head
    s.step("S0", "server.enqueue_runnable", worker=1)
    s.step("S0", "server.pick_worker", worker=1)
    s.step("S0", "server.set_worker_server_tid", worker=1)
    assert s.show("W0.server_tid") == "S0"
    s.step("S0", "server.set_self_idle")
    assert s.show("S0.state") == "IDLE" and s.show("S0.next_tid") == "W0"
    s.step("S0", "server.set_worker_running", worker=1)
    assert s.show("W0.state") == "RUNNING"
    s.step("S0", "sys_umcg_wait.swap_next_tid")
    s.step("S0", "umcg_do_context_switch.ttwu_ok", next=1)
    assert s.show("W0.__state") == "TASK_RUNNING"
    assert s.show("S0.pc") == "idle.entry"  # the server goes to sleep in umcg_idle_loop


def test_U1_swap_to_a_task_not_asleep_returns_eagain(m1):
    s = registered(m1)
    s.run("S0", "wait.ctx")
    s = s.set(W0____state=0)  # W0 not asleep (TASK_RUNNING)
    assert s.names("S0") == ["umcg_do_context_switch.ttwu_failed_eagain"]
    s.step("S0", "umcg_do_context_switch.ttwu_failed_eagain")
    assert s.show("S0.rv") == "-EAGAIN" and s.show("S0.pc") == "srv.after"
    assert s.show("S0.__state") == "TASK_RUNNING"  # the caller does not sleep


# ---------------------------------------------------------------- K3/K5: the worker runs


def test_K3_pass_through_and_K5_idle_loop_returns_when_running(m1):
    s = registered(m1)
    s.run("S0", "sched.sleep")
    # W0 was made RUNNING with a server and woken: the nested idle loop returns, no IDLE.
    s.step("W0", "umcg_idle_loop.nested.state_running_out")
    assert s["W0.PF_UMCG_WORKER"] == 1  # out: PF_UMCG_WORKER set again
    s.run("W0", "op0")
    assert s.show("W0.state") == "RUNNING" and s.show("W0.server_tid") == "S0"


def test_K3_wake_hook_pass_through_for_running_worker_with_server():
    m = model(preemptions=1)
    s = running(m)
    s.step("W0", "env.preempt")
    s.step("W0", "wq_worker_change_state.running.read_running")
    assert s.names("W0") == ["wq_worker_change_state.running.pass_through"]
    s.step("W0", "wq_worker_change_state.running.pass_through")
    assert s.show("W0.pc") == "op0" and s.show("W0.state") == "RUNNING"


# ---------------------------------------------------------------- K1: block detection


def test_K1_block_marks_blocked_and_wakes_server(m1):
    s = running(m1)
    s.step("W0", "io.prepare_to_wait")
    s.step("W0", "sched_submit_work.umcg_wq_worker_sleeping")
    s.step("W0", "wq_worker_change_state.sleeping.read_running")
    s.step("W0", "wq_worker_change_state.sleeping.cmpxchg_blocked")
    assert s.show("W0.state") == "BLOCKED"
    s.step("W0", "umcg_wq_worker_sleeping.read_server_tid")
    s.step("W0", "wake_server.cmpxchg_idle_running", server=0)
    assert s.show("S0.state") == "RUNNING"
    s.step("W0", "umcg_do_wake_loop.ttwu_ok", server=0)
    assert s.show("S0.__state") == "TASK_RUNNING"
    assert s.show("W0.pc") == "sched.sleep" and ku(s, "W0") == []  # W0 sleeps on the I/O


def test_K1_server_not_idle_kills_the_worker(m1):
    s = running(m1)
    s.step("W0", "io.prepare_to_wait")
    s.run("W0", "wqs.ws.cmpxchg")
    s = s.set(S0__state=RUNNING)
    s.step("W0", "wake_server.cmpxchg_failed_die", server=0)
    assert s.show("umcg_die") == "W0"
    assert s.names() == []  # SIGSEGV ends the process: no step is enabled


def test_K1_ttwu_spins_while_the_server_is_not_asleep(m1):
    s = running(m1)
    s.step("W0", "io.prepare_to_wait")
    s.run("W0", "wqs.ws.loop")
    s = s.set(S0____state=0)
    before = s.s
    s.step("W0", "umcg_do_wake_loop.ttwu_failed_spin", server=0)
    assert s.s == before  # the spin changes nothing: a self-loop


def test_K1_prime_locked_or_not_running_is_a_no_op(m1):
    s = running(m1).set(W0__state=RUNNING | LOCKED)
    s.step("W0", "io.prepare_to_wait")
    s.step("W0", "sched_submit_work.umcg_wq_worker_sleeping")
    assert ku(s, "W0") == ["wq_worker_change_state.sleeping.locked_return"]
    s = running(m1).set(W0__state=IDLE)
    s.step("W0", "io.prepare_to_wait")
    s.step("W0", "sched_submit_work.umcg_wq_worker_sleeping")
    assert ku(s, "W0") == ["wq_worker_change_state.sleeping.not_running_return"]


def test_K1_concurrent_state_change_between_read_and_cmpxchg_dies(m1):
    s = running(m1)
    s.step("W0", "io.prepare_to_wait")
    s.step("W0", "sched_submit_work.umcg_wq_worker_sleeping")
    s.step("W0", "wq_worker_change_state.sleeping.read_running")
    s = s.set(W0__state=IDLE)  # user space changed the word after the read
    assert ku(s, "W0") == ["wq_worker_change_state.sleeping.cmpxchg_failed_die"]


# ---------------------------------------------------------------- K4: wake detection


def test_K4_blocked_worker_becomes_idle_is_pushed_and_sleeps(m1):
    s = running(m1)
    s.step("W0", "io.prepare_to_wait")
    s.run("W0", "sched.sleep")
    s.run("S0", "srv.loop")
    s.run("S0", "sched.sleep")  # S0 finds no work and waits on ISH
    assert s.show("ISH") == "&S0.idle_servers_ptr"
    s.step("W0", "env.io_complete")
    s.step("W0", "__schedule.return.umcg_wq_worker_running")
    s.step("W0", "wq_worker_change_state.running.read_not_running")
    s.step("W0", "wq_worker_change_state.running.cmpxchg_idle")
    assert s.show("W0.state") == "IDLE"  # BLOCKED -> IDLE
    s.run("W0", "wqr.is_head")
    assert s.show("IWH") == "&W0.idle_workers_ptr"
    s.run("W0", "hidle.sleep")
    assert s.show("ISH") == "NULL" and s.show("S0.state") == "RUNNING"
    assert s.show("S0.__state") == "TASK_RUNNING"
    assert s.show("W0.__state") == "TASK_INTERRUPTIBLE"


def test_K4_running_worker_without_server_is_made_idle():
    m = model(preemptions=1)
    s = running(m).set(W0__server_tid=0)
    s.step("W0", "env.preempt")
    s.step("W0", "wq_worker_change_state.running.read_running")
    s.step("W0", "wq_worker_change_state.running.no_server")
    s.step("W0", "wq_worker_change_state.running.cmpxchg_idle")
    assert s.show("W0.state") == "IDLE"


def test_K4_null_idle_workers_ptr_dies():
    m = model(preemptions=1)
    s = running(m).set(W0__server_tid=0, W0__idle_workers_ptr=0)
    s.step("W0", "env.preempt")
    s.run("W0", "wqr.iw_head")
    assert s.names("W0") == ["umcg_wq_worker_running.idle_workers_ptr_null_die"]


def test_K2_locked_worker_skips_wake_detection():
    m = model(preemptions=1)
    s = running(m).set(W0__state=IDLE | LOCKED)
    s.step("W0", "env.preempt")
    assert s.names("W0") == ["wq_worker_change_state.running.locked_out"]
    s.step("W0", "wq_worker_change_state.running.locked_out")
    assert s.show("W0.pc") == "op0" and s.show("IWH") == "NULL"


# ---------------------------------------------------------------- U2, U6: yield and LOCKED


def test_U2_yield_hands_the_cpu_back_to_the_server():
    m = model(ops=(("yield",),))
    s = running(m)
    s.step("W0", "worker.yield.set_self_idle")
    assert s.show("W0.state") == "IDLE"
    s.step("W0", "worker.yield.enqueue_self")
    assert s.show("runq") == "{W0}"
    s.step("W0", "worker.yield.read_server_tid")
    s.step("W0", "worker.yield.set_server_running", server=0)
    assert s.show("S0.state") == "RUNNING" and s.show("W0.next_tid") == "0"
    s.step("W0", "sys_umcg_wait.worker_to_server_tid")  # next_tid == 0: use server_tid
    s.step("W0", "umcg_do_context_switch.ttwu_ok", next=0)
    assert s.show("S0.__state") == "TASK_RUNNING"
    s.run("W0", "sched.sleep")
    assert s.show("W0.__state") == "TASK_INTERRUPTIBLE"


def test_U6_idle_loop_clears_locked():
    m = model(ops=(("yield",),), lock_before_wait=True)
    s = running(m)
    s.step("W0", "worker.yield.set_self_idle")
    assert s.show("W0.state") == "IDLE|LOCKED"
    s.run("W0", "idle.entry")
    s.step("W0", "umcg_idle_loop.read_state_locked")
    s.step("W0", "umcg_idle_loop.unlock_cmpxchg_ok")
    assert s.show("W0.state") == "IDLE"


def test_U6_unlock_cmpxchg_failure_is_efault():
    m = model(ops=(("yield",),), lock_before_wait=True)
    s = running(m)
    s.run("W0", "idle.entry")
    s.step("W0", "umcg_idle_loop.read_state_locked")
    s = s.set(W0__state=RUNNING)  # the server resumed W0 in between
    s.step("W0", "umcg_idle_loop.unlock_cmpxchg_failed_efault")
    assert s.show("W0.rv") == "-EFAULT"


# ---------------------------------------------------------------- U3, U4: swap and wake


def two_workers(ops):
    m = build(Params(servers=1, workers=2, ops=ops))
    return m, Sim(m.spec, m.fmt)


def test_U3_swap_switches_to_the_other_worker():
    m, s = two_workers((("yield",), ("swap",)))
    s = s.set(runq=1, W1__state=RUNNING, W1__server_tid=1, W1__umcg_task=1,
              W1__PF_UMCG_WORKER=1, W0__umcg_task=1, W0__PF_UMCG_WORKER=1,
              W0____state=1, S0__umcg_task=1, S0__state=IDLE)
    s = s.set(W1__pc=m.labels.index("u:op0"), W0__pc=m.labels.index("k:sched.sleep"),
              W0__ret_k=m.labels.index("k:idle.after"))
    s.step("W1", "worker.swap.pick", worker=1)
    assert s.show("runq") == "{}"
    s.step("W1", "worker.swap.read_server_tid")
    s.step("W1", "worker.swap.set_target_server_tid", worker=1)
    assert s.show("W0.server_tid") == "S0"
    s.step("W1", "worker.swap.set_self_idle")
    s.step("W1", "worker.swap.enqueue_self")
    s.step("W1", "worker.swap.set_target_running", worker=1)
    assert s.show("W0.state") == "RUNNING" and s.show("W1.next_tid") == "W0"
    s.step("W1", "sys_umcg_wait.swap_next_tid")
    s.step("W1", "umcg_do_context_switch.ttwu_ok", next=1)
    assert s.show("W0.__state") == "TASK_RUNNING"


def test_U4_wake_only_wakes_and_does_not_sleep():
    m, s = two_workers((("yield",), ("wake",)))
    s = s.set(runq=1, W1__state=RUNNING, W1__server_tid=1, W1__umcg_task=1,
              W1__PF_UMCG_WORKER=1, W0__umcg_task=1, W0__PF_UMCG_WORKER=1,
              W0____state=1, W0__server_tid=1, S0__umcg_task=1, S0__state=IDLE)
    s = s.set(W1__pc=m.labels.index("u:op0"), W0__pc=m.labels.index("k:sched.sleep"),
              W0__ret_k=m.labels.index("k:idle.after"))
    s.step("W1", "worker.wake.pick", worker=1)
    s.step("W1", "worker.wake.clear_target_server_tid", worker=1)
    assert s.show("W0.server_tid") == "0"
    s.step("W1", "worker.wake.set_target_running", worker=1)
    assert s.show("W1.pc") == "wake.entry"
    s.step("W1", "umcg_do_wake.ttwu_ok", next=1)
    assert s.show("W0.__state") == "TASK_RUNNING" and s.show("W1.rv") == "0"
    assert s.show("W1.__state") == "TASK_RUNNING"  # the caller keeps running
    # The woken worker has no server: its wake hook makes it IDLE and queues it.
    s.run("W0", "wqr.iw_head")
    assert s.show("W0.state") == "IDLE"


def test_U4_wake_only_errors():
    m, s = two_workers((("yield",), ("wake",)))
    s = s.set(W1__umcg_task=1, W1__next_tid=2, W1__pc=m.labels.index("k:wake.entry"))
    assert s.names("W1") == ["umcg_do_wake.esrch"]  # W0 is not a UMCG task
    s = s.set(W1__next_tid=0)
    assert s.names("W1") == ["sys_umcg_wait.wake_only_einval_no_next"]
    s = s.set(W1__umcg_task=0)
    assert s.names("W1") == ["sys_umcg_wait.wake_only_einval_not_umcg"]
    s = s.set(W1__umcg_task=1, W1__next_tid=2, W0__umcg_task=1, W0____state=0)
    assert s.names("W1") == ["umcg_do_wake.ttwu_failed_eagain"]


# ---------------------------------------------------------------- U5: server goes idle


def test_U5_server_goes_idle_on_the_idle_servers_list(m1):
    s = Sim(m1.spec, m1.fmt)
    s.step("S0", "sys_umcg_ctl.register_server")
    s.step("S0", "server.idle_workers_empty")
    s.step("S0", "server.no_ready_worker")
    s.step("S0", "server.go_idle")
    assert s.show("S0.state") == "IDLE" and s.show("S0.next_tid") == "0"
    s.run("S0", "srv.idle.recheck")
    assert s.show("ISH") == "&S0.idle_servers_ptr"
    s.step("S0", "server.recheck_idle_workers_empty")
    s.step("S0", "sys_umcg_wait.wait")  # a server with next_tid == 0: WAIT
    s.run("S0", "sched.sleep")
    assert s.names("S0") == []


def test_stack_push_spins_on_a_locked_head(m1):
    s = Sim(m1.spec, m1.fmt)
    s.step("S0", "sys_umcg_ctl.register_server")
    s.run("S0", "srv.idle.push.read")
    s = s.set(ISH=2 * 4 + 1)  # ISH locked by a concurrent pop (bit 0)
    before = s.s
    s.step("S0", "server.idle_push.head_locked_spin")
    assert s.s == before


def test_K5_signal_interrupts_the_idle_loop(m1):
    s = running(m1).set(S0__sigpending=1, S0____state=0)
    s.step("S0", "__schedule.return")
    s.step("S0", "umcg_idle_loop.signal_pending_eintr")
    assert s.show("S0.rv") == "-EINTR"
    assert s["S0.sigpending"] == 0  # delivered on the way back to user space


def test_unknown_step_is_refused(m1):
    s = Sim(m1.spec, m1.fmt)
    with pytest.raises(StepError):
        s.step("W0", "server.pop_all_idle_workers")


@pytest.mark.parametrize("kw", [{}, dict(servers=2, workers=2, ops=(("block",), ("swap",))),
                                dict(signals=1, preemptions=1)])
def test_kernel_label_range_is_exactly_the_kernel_labels(kw):
    # "runs user code" (INV-2/3/4's premise, signal delivery, preemption's return) is
    # pc < kernel_labels.start: an off-by-one here made k:hidle.sleep user code.
    m = model(**kw)
    k = m.kernel_labels
    for i, name in enumerate(m.labels):
        assert (i in k) == name.startswith("k:"), (i, name)
