"""UMCG RFC v0.2 (Oskolkov, 2021-07-08): kernel, user-space protocol and environment.

The model is built from families of actions, one module each: ``kernel`` (the patch's
functions), ``stacks`` (the lock-bit stacks), ``userspace`` (the protocol), ``environment``.
Decisions where the sources are silent: docs/model-v0.2.md.
"""

from __future__ import annotations

from model.lang import And, Domain, Var
from model.v0_2.builder import BuilderBase
from model.v0_2.common import (  # noqa: F401  (the public names of the v0.2 model)
    BLOCKED,
    CORE,
    EAGAIN,
    EFAULT,
    EINTR,
    EINVAL,
    ENVF,
    ERRNO,
    ESRCH,
    HFILE,
    IDLE,
    IO_DONE,
    IO_NONE,
    IO_PENDING,
    K_INTERRUPTIBLE,
    K_RUNNING,
    K_UNINTERRUPTIBLE,
    KFILE,
    LOCKED,
    NONE,
    OK,
    OPS,
    RUNNING,
    STATE_NAMES,
    USER,
    VERSION,
    E,
    K,
    Labels,
    Model,
    Params,
    Task,
    U,
)
from model.v0_2.environment import EnvironmentMixin
from model.v0_2.kernel import KernelMixin
from model.v0_2.stacks import StacksMixin
from model.v0_2.userspace import UserSpaceMixin


class Builder(KernelMixin, StacksMixin, UserSpaceMixin, EnvironmentMixin, BuilderBase):
    """Everything needed to build one v0.2 model."""


def build(p: Params, builder: type[Builder] = Builder) -> Model:
    """Build the v0.2 model for the given parameters (or, with `builder`, a version that
    subclasses the v0.2 builder and changes only what differs)."""
    for ops in p.ops:
        for op in ops:
            if op not in OPS:
                raise ValueError(f"unknown worker operation {op!r}")

    def run(labels: Labels, krange: tuple[int, int]) -> Builder:
        b = builder(p, labels)
        b.kernel_range = krange
        labels("u:srv.register")
        labels("u:wrk.register")
        for t in b.servers:
            b.server(t)
        for i, t in enumerate(b.workers):
            b.worker(t, p.ops[i])
        for t in range(b.n):
            b.kernel(t)
        labels("done")
        labels("dead")
        b.environment()
        return b

    probe = Labels()
    run(probe, (0, 0))
    order = Labels.sort(list(probe.seen))
    nuser = sum(1 for x in order if x.startswith("u:"))
    nkern = sum(1 for x in order if x.startswith("k:"))
    if len(order) > 255:
        raise ValueError("too many program labels for one byte")
    # order[0] is "-", so user labels are 1..nuser and kernel labels follow them.
    kernel = range(1 + nuser, 1 + nuser + nkern)
    b = run(Labels(order), (kernel.start, kernel.stop))
    pc_dom = Domain(0, len(order) - 1, tuple(order), "pc")
    for name in ("pc", "ret_sys", "ret_k"):
        for v in b.V[name]:
            v.domain = pc_dom
    for t in b.tasks:
        b.V["pc"][t.index].init = order.index("u:srv.register" if t.role == "server"
                                              else "u:wrk.register")
    done = order.index("done")
    finished = And(*[b.V["pc"][w] == done for w in b.workers])
    addr_names = b.addr_names

    def fmt(v: Var, x: int) -> str:
        d = v.domain
        if d.kind == "ptr":
            if x == 0:
                return "NULL"
            s = "&" + addr_names[x >> 1] if (x >> 1) < len(addr_names) else f"?{x}"
            return s + "|1" if x & 1 else s
        if d.kind == "mask":
            names = [b.tasks[b.workers[i]].name for i in range(len(b.workers)) if x >> i & 1]
            return "{" + ",".join(names) + "}"
        if d.names and 0 <= x < len(d.names):
            name = d.names[x]
            return name[2:] if d.kind == "pc" and name[:2] in ("u:", "k:") else name
        return str(x)

    return Model(b.spec, p, b.tasks, order, kernel, b.V, b.g, addr_names,
                 finished, fmt)

