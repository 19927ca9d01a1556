"""One execution: a real OS thread per task, the environment (I/O completion, preemption,
signals) and the controller that picks who steps next.

The controller waits until every thread is quiet -- at its gate, asleep in schedule() and
not runnable, or exited -- then picks one choice: a task's next step or an environment
event.  So the threads run real code, but one step at a time and in an order the
controller decides (random in `run`, the trace's in `replay`), which makes every execution
reproducible.  All threads are joined when the execution ends, however it ends."""

from __future__ import annotations

import threading
import time
import traceback

from executor.kernel import (
    TASK_RUNNING,
    ExecutorError,
    Hang,
    Kernel,
    Killed,
    Options,
    Record,
    Stopped,
    TaskStruct,
)
from executor.userspace import server, worker
from executor.vocab import label, snapshot

STEP = "step"
ENV_ACTIONS = ("env.io_complete", "env.preempt", "env.signal", "sched.switch_in",
               "sched.switch_out")
# sched_submit_work runs the sleeping hook with preemption disabled, and __schedule itself
# is not preemptible: no kernel preemption at these labels (the model's PREEMPT_DISABLED).
NOT_PREEMPTIBLE = ("k:wqs.", "k:sched.sleep", "k:hidle.sleep")
SLEEP_POINTS = ("k:sched.sleep", "k:hidle.sleep")
Choice = tuple[str, str]  # (STEP or an env action, task name)


class Execution:
    def __init__(self, opts: Options, timeout: float = 2.0) -> None:
        self.k = Kernel(opts, timeout)
        self.k.snapshot = snapshot
        self.threads: list[threading.Thread] = []
        self.by_name = {t.name: t for t in self.k.tasks}

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        for t in self.k.tasks:
            th = threading.Thread(target=self._body, args=(t,), name=f"umcg-{t.name}")
            self.threads.append(th)
            th.start()
        self.wait_quiet()

    def _body(self, t: TaskStruct) -> None:
        k = self.k
        try:
            if t.role == "worker" and k.opts.workload:
                from executor.workloads import WORKLOADS

                WORKLOADS[k.opts.workload][1](t.index - k.opts.servers)(k, t)
            else:
                (server if t.role == "server" else worker)(k, t)
        except (Stopped, Killed):
            pass
        except BaseException:  # noqa: BLE001 -- reported by the controller, never lost
            k.errors.append(f"{t.name}: {traceback.format_exc(limit=6)}")
        finally:
            with k.cv:
                t.where = "exited"
                if k.turn is t:
                    k.turn = None
                k.cv.notify_all()

    def close(self) -> None:
        """Stop every thread (each unwinds at its next wait) and join them all."""
        k = self.k
        with k.cv:
            k.stop = True
            k.cv.notify_all()
        for th in self.threads:
            th.join(timeout=10)
        alive = [th.name for th in self.threads if th.is_alive()]
        if alive:
            raise ExecutorError(f"threads still alive after the execution ended: {alive}")

    def __enter__(self) -> Execution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- stepping
    def _quiet(self, t: TaskStruct) -> bool:
        if t.where == "exited":
            return True
        if t.where == "gate":
            return not t.preempt_pending
        return t.where == "asleep" and not self.k.runnable(t)

    def wait_quiet(self) -> None:
        k = self.k
        deadline = time.monotonic() + k.timeout
        with k.cv:
            while k.turn is not None or not all(self._quiet(t) for t in k.tasks):
                if k.errors:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    threads = "\n".join(self.describe())
                    raise Hang(f"no progress for {k.timeout:.1f} s; threads:\n{threads}")
                k.cv.wait(left)
        if k.errors:
            raise ExecutorError(k.errors[0])

    def describe(self) -> list[str]:
        return [f"  {t.name}: {t.where} at {label(t.frame.pc)} ({t.kstate}); last step: "
                f"{t.last or '-'}" for t in self.k.tasks]

    def choices(self) -> list[Choice]:
        """What can happen next, in a fixed order."""
        k = self.k
        if k.halted():
            return []
        cpus = k.opts.cpus
        out: list[Choice] = [(STEP, t.name) for t in k.tasks
                             if t.where == "gate" and (t.on_cpu or not cpus)]
        if cpus:
            for t in k.tasks:
                pc = t.frame.pc
                if t.exited or pc in ("done", "dead"):
                    continue
                asleep = pc in SLEEP_POINTS and t.kstate != TASK_RUNNING
                if not t.on_cpu and k.free_cpus and not asleep:
                    out.append(("sched.switch_in", t.name))
                if (t.on_cpu and not t.fresh and pc.startswith("k:")
                        and not pc.startswith(NOT_PREEMPTIBLE)):
                    out.append(("sched.switch_out", t.name))
        for w in k.workers:
            if w.io == "pending":
                out.append(("env.io_complete", w.name))
        if k.preemptions_left:
            for w in k.workers:
                # a worker in user space, registered: the return to user mode can schedule()
                if w.where == "gate" and w.frame.pc.startswith("u:") and w.pf_umcg_worker:
                    out.append(("env.preempt", w.name))
        if k.signals_left:
            for t in k.tasks:
                if t.frame.pc.startswith("k:") and not t.sigpending:
                    out.append(("env.signal", t.name))
        return out

    def step(self, choice: Choice) -> Record:
        """Take one choice; the one record it produced."""
        kind, name = choice
        k, t = self.k, self.by_name[name]
        n0 = len(k.records)
        with k.cv:
            if kind == STEP:
                k.turn = t
            elif kind == "env.io_complete":
                # the I/O completes: wake_up() = try_to_wake_up(TASK_NORMAL)
                t.io = "done"
                t.kstate = TASK_RUNNING
            elif kind == "env.preempt":
                # an interrupt in user space; exit_to_user_mode calls schedule() with the
                # task TASK_RUNNING, so sched_update_worker runs the wake hook (§2.7)
                k.preemptions_left -= 1
                t.frame.ret_k = t.frame.pc
                t.frame.pc = "k:wqr.entry"
                t.preempt_pending = True
                k.release_cpu(t)
            elif kind == "sched.switch_in":
                # pick_next_task: a runnable task gets a free CPU
                t.on_cpu = True
                t.fresh = True
                k.free_cpus -= 1
            elif kind == "sched.switch_out":
                # kernel preemption outside preempt_disable()
                k.release_cpu(t)
            elif kind == "env.signal":
                k.signals_left -= 1
            else:
                raise ValueError(f"unknown choice {kind!r}")
            if kind != STEP:
                if kind == "env.signal":
                    k.send_signal(t)
                t.last = kind
                k.records.append(Record(t.name, kind, snapshot(k)))
            k.cv.notify_all()
        self.wait_quiet()
        new = k.records[n0:]
        if len(new) != 1:
            raise ExecutorError(f"{name}: one step made {len(new)} records "
                                f"({[r.action for r in new]})")
        return new[0]

    def outcome(self) -> str:
        """How an execution with nothing left to do ended."""
        k = self.k
        if k.died is not None:
            return f"umcg_die({k.died.name})"
        if k.aborted is not None:
            return f"user_abort({k.aborted.name})"
        if all(w.exited for w in k.workers):
            return "finished"
        return "deadlock"
