"""The executor's state in the shared trace vocabulary: the state variable names and the
value spellings of the checker's ITF traces (docs/reading-counterexamples.md).

This is the only bridge to the model: the executor's concrete values (addresses, TIDs,
UMCG_TF_LOCKED = 0x100, errno values) are translated to names here, and conformance and
replay compare on these names."""

from __future__ import annotations

from typing import Any

from executor.kernel import EAGAIN, EFAULT, EINTR, EINVAL, ESRCH, Kernel
from executor.memory import ISH_ADDR, IWH_ADDR, RUNQ_ADDR, UMCG_TF_LOCKED

STATE_BYTE = {0: "NONE", 1: "RUNNING", 2: "IDLE", 3: "BLOCKED"}
ERRNO = {0: "0", EINTR: "-EINTR", EAGAIN: "-EAGAIN", ESRCH: "-ESRCH", EINVAL: "-EINVAL",
         EFAULT: "-EFAULT"}


def label(pc: str) -> str:
    """A pc label as traces show it: without the "u:"/"k:" prefix."""
    return pc[2:] if pc[:2] in ("u:", "k:") else pc


class Names:
    """How the executor's concrete values of one run are spelled."""

    def __init__(self, k: Kernel) -> None:
        self.addr: dict[int, str] = {IWH_ADDR: "IWH", ISH_ADDR: "ISH"}
        for t in k.tasks:
            self.addr[t.idle_workers_ptr] = f"{t.name}.idle_workers_ptr"
            self.addr[t.idle_servers_ptr] = f"{t.name}.idle_servers_ptr"
        self.tid = {t.tid: t.name for t in k.tasks}

    def word(self, x: int) -> str:
        if x & ~(0xFF | UMCG_TF_LOCKED) or (x & 0xFF) not in STATE_BYTE:
            return hex(x)
        s = STATE_BYTE[x & 0xFF]
        return s + "|LOCKED" if x & UMCG_TF_LOCKED else s

    def ptr(self, x: int) -> str:
        if x == 0:
            return "NULL"
        a = self.addr.get(x & ~1)
        s = f"&{a}" if a is not None else hex(x & ~1)
        return s + "|1" if x & 1 else s

    def task(self, tid: int) -> str:
        return "0" if tid == 0 else self.tid.get(tid, f"tid {tid}")


def snapshot(k: Kernel) -> dict[str, Any]:
    """Every state variable of the vocabulary, as the executor sees it now."""
    n = getattr(k, "_names", None)
    if n is None:
        n = k._names = Names(k)  # type: ignore[attr-defined]
    m = k.mem
    s: dict[str, Any] = {}
    for t in k.tasks:
        s[f"{t.name}.state"] = n.word(m.load(t.state_addr))
    for t in k.tasks:
        s[f"{t.name}.server_tid"] = n.task(m.load(t.server_tid_addr))
    for t in k.tasks:
        s[f"{t.name}.next_tid"] = n.task(m.load(t.next_tid_addr))
    s["NULL"] = "NULL"
    s["IWH"] = n.ptr(m.load(IWH_ADDR))
    s["ISH"] = n.ptr(m.load(ISH_ADDR))
    for t in k.tasks:
        s[f"{t.name}.idle_workers_ptr"] = n.ptr(m.load(t.idle_workers_ptr))
        s[f"{t.name}.idle_servers_ptr"] = n.ptr(m.load(t.idle_servers_ptr))
    s["runq"] = m.load(RUNQ_ADDR)
    for t in k.tasks:
        s[f"{t.name}.umcg_task"] = bool(t.umcg_task)
        s[f"{t.name}.PF_UMCG_WORKER"] = t.pf_umcg_worker
        s[f"{t.name}.__state"] = t.kstate
        s[f"{t.name}.sigpending"] = t.sigpending
        s[f"{t.name}.io"] = t.io
        f = t.frame
        s[f"{t.name}.pc"] = label(f.pc)
        s[f"{t.name}.prev"] = n.word(f.prev)
        s[f"{t.name}.first"] = n.ptr(f.first)
        s[f"{t.name}.next"] = n.ptr(f.next)
        s[f"{t.name}.head"] = n.ptr(f.head)
        s[f"{t.name}.tid"] = n.task(f.tid)
        s[f"{t.name}.tgt"] = n.task(f.tgt)
        s[f"{t.name}.rv"] = ERRNO.get(f.rv, str(f.rv))
        s[f"{t.name}.ret_sys"] = label(f.ret_sys)
        s[f"{t.name}.ret_k"] = label(f.ret_k)
    if k.opts.cpus:
        for t in k.tasks:
            s[f"{t.name}.on_cpu"] = t.on_cpu
            s[f"{t.name}.fresh_slice"] = t.fresh
        s["free_cpus"] = k.free_cpus
    s["umcg_die"] = k.died.name if k.died else "no"
    s["user_abort"] = k.aborted.name if k.aborted else "no"
    s["signals_left"] = k.signals_left
    s["preemptions_left"] = k.preemptions_left
    return s


def memory_image(k: Kernel) -> list[str]:
    """The concrete user memory, one line per struct umcg_task plus the heads."""
    n = Names(k)
    m = k.mem
    lines = [f"  IWH @{IWH_ADDR:#x} = {n.ptr(m.load(IWH_ADDR))}   "
             f"ISH @{ISH_ADDR:#x} = {n.ptr(m.load(ISH_ADDR))}   "
             f"ready set @{RUNQ_ADDR:#x} = {m.load(RUNQ_ADDR):#x}"]
    for t in k.tasks:
        lines.append(
            f"  {t.name} (tid {t.tid}) umcg_task @{t.addr:#x}: "
            f"state={m.load(t.state_addr):#05x} ({n.word(m.load(t.state_addr))}) "
            f"server_tid={m.load(t.server_tid_addr)} next_tid={m.load(t.next_tid_addr)} "
            f"idle_servers_ptr={n.ptr(m.load(t.idle_servers_ptr))} "
            f"idle_workers_ptr={n.ptr(m.load(t.idle_workers_ptr))}   "
            f"[{t.kstate}{' sigpending' if t.sigpending else ''}, pc {label(t.frame.pc)}]")
    return lines
