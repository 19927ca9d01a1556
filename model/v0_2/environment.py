"""What the world does to UMCG tasks: I/O completion, preemption, signals."""

from __future__ import annotations

from model.lang import And, Not, Or
from model.v0_2.common import IO_DONE, IO_PENDING, K_RUNNING, E


class EnvironmentMixin:
    def environment(self) -> None:
        V, g = self.V, self.g

        def labels_of(t: int, prefix: str) -> list[str]:
            return sorted(x for x in self.task_labels.get(t, ()) if x.startswith(prefix))

        for w in self.workers:
            # The I/O a blocked worker waits for completes: wake_up() = ttwu(TASK_NORMAL).
            self.spec.action("env.io_complete", task=w, actor="E",
                             guard=V["io"][w] == IO_PENDING,
                             effect={V["io"][w]: IO_DONE, V["kstate"][w]: K_RUNNING},
                             source=E("I/O completion", "wake_up(): try_to_wake_up(TASK_NORMAL)"))
        if self.p.preemptions:
            for w in self.workers:
                for lab in labels_of(w, "u:"):
                    # Involuntary preemption in user space: schedule() with TASK_RUNNING, so
                    # sched_submit_work does nothing and sched_update_worker runs the hook.
                    self.spec.action(
                        "env.preempt", task=w, actor="E",
                        guard=And(V["pc"][w] == self.L(lab), g["pre_left"] > 0, V["pf"][w] == 1),
                        effect={g["pre_left"]: g["pre_left"] - 1,
                                V["ret_k"][w]: self.L(lab), V["pc"][w]: self.L("k:wqr.entry"),
                                **self.release_cpu(w)},
                        source=E("preemption", "exit_to_user_mode: schedule() while "
                                 "TASK_RUNNING: sched_update_worker", "§2.7"))
        if self.p.cpus:
            self.cpu_scheduler(labels_of)
        if self.p.signals:
            for t in range(self.n):
                for lab in labels_of(t, "k:"):
                    eff = self.tgkill(t)
                    eff[g["sig_left"]] = g["sig_left"] - 1
                    self.spec.action(
                        "env.signal", task=t, actor="E",
                        guard=And(V["pc"][t] == self.L(lab), g["sig_left"] > 0,
                                  V["sigpending"][t] == 0),
                        effect=eff,
                        source=E("signal", "signal_wake_up(): ttwu(TASK_INTERRUPTIBLE)"))

    def cpu_scheduler(self, labels_of) -> None:
        """Bounded CPUs: the scheduler puts runnable tasks on free CPUs and, outside
        preemption-disabled code, may take a task off its CPU (kernel preemption; user-space
        preemption is env.preempt, which runs the UMCG wake hook)."""
        V, free = self.V, self.g["free_cpus"]
        done, dead = self.L("done"), self.L("dead")
        for t in range(self.n):
            oncpu, pc = V["oncpu"][t], V["pc"][t]
            # Off the runqueue only after __schedule() deactivated it at a sleep point, until
            # a ttwu; a task preempted after set_current_state() stays runnable.
            asleep = And(Or(*[pc == self.L(x) for x in SLEEP_POINTS]),
                         V["kstate"][t] != K_RUNNING)
            self.spec.action(
                "sched.switch_in", task=t, actor="E",
                guard=And(oncpu == 0, free > 0, Not(asleep), pc != done, pc != dead),
                effect={oncpu: 1, free: free - 1, V["fresh"][t]: 1},
                source=E("CPU scheduler", "pick_next_task: a runnable task gets a free CPU"))
            for lab in labels_of(t, "k:"):
                if lab.startswith(PREEMPT_DISABLED):
                    continue
                self.spec.action(
                    "sched.switch_out", task=t, actor="E",
                    guard=And(pc == self.L(lab), oncpu == 1, V["fresh"][t] == 0),
                    effect=self.release_cpu(t),
                    source=E("CPU scheduler", "kernel preemption outside preempt_disable()"))


# sched_submit_work() runs umcg_wq_worker_sleeping() between preempt_disable() and
# preempt_enable_no_resched() (semantics §2.7): no preemption there.
# __schedule() itself runs with preemption off, so the sleep points are not preemptible either.
SLEEP_POINTS = ("k:sched.sleep", "k:hidle.sleep")
PREEMPT_DISABLED = ("k:wqs.",) + SLEEP_POINTS
