"""What the world does to UMCG tasks: I/O completion, preemption, signals."""

from __future__ import annotations

from model.lang import And
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
                                V["ret_k"][w]: self.L(lab), V["pc"][w]: self.L("k:wqr.entry")},
                        source=E("preemption", "exit_to_user_mode: schedule() while "
                                 "TASK_RUNNING: sched_update_worker", "§2.7"))
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
