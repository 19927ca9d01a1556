"""User memory: the `struct umcg_task` of each task, the two list heads and the ready set,
at concrete addresses, with the atomic accesses the patch uses (load, store, xchg, cmpxchg).

Layout of `struct umcg_task` (v0.2 uapi, include/uapi/linux/umcg.h; semantics §2.1):
offset 0 state (u32), 4 api_version (u32), 8 server_tid (u32), 12 next_tid (u32),
16 idle_servers_ptr (u64), 24 idle_workers_ptr (u64); aligned to 64 bytes.  Pointers are
8-byte aligned, so bit 0 of a list head is free for v0.2's head lock (umcg.h)."""

from __future__ import annotations

import threading

# uapi constants (include/uapi/linux/umcg.h, v0.2)
UMCG_TASK_NONE, UMCG_TASK_RUNNING, UMCG_TASK_IDLE, UMCG_TASK_BLOCKED = 0, 1, 2, 3
UMCG_TF_STATE_MASK = 0xFF
UMCG_TF_LOCKED = 1 << 8

OFF_STATE, OFF_API_VERSION, OFF_SERVER_TID, OFF_NEXT_TID = 0, 4, 8, 12
OFF_IDLE_SERVERS_PTR, OFF_IDLE_WORKERS_PTR = 16, 24

# Where things live in the image (arbitrary, 64-byte aligned like the patch requires).
IWH_ADDR = 0x1000      # the process's idle-workers list head (a u64)
ISH_ADDR = 0x1008      # the idle-servers list head (a u64)
RUNQ_ADDR = 0x1040     # the user-space scheduler's ready set: one bit per worker
TASKS_BASE = 0x2000    # struct umcg_task of task i at TASKS_BASE + 64 * i


def umcg_task_addr(index: int) -> int:
    return TASKS_BASE + 64 * index


class Memory:
    """A word-addressed image of user memory.  Every access holds the bus lock, so each
    load, store, xchg and cmpxchg is indivisible, as on x86 (the patch's get_user,
    put_user and cmpxchg_user_32/64)."""

    def __init__(self) -> None:
        self._bus = threading.Lock()
        self.words: dict[int, int] = {}

    def load(self, addr: int) -> int:
        with self._bus:
            return self.words.get(addr, 0)

    def store(self, addr: int, value: int) -> None:
        with self._bus:
            self.words[addr] = value

    def xchg(self, addr: int, value: int) -> int:
        with self._bus:
            old = self.words.get(addr, 0)
            self.words[addr] = value
            return old

    def cmpxchg(self, addr: int, expected: int, new: int) -> bool:
        """Store `new` iff the word holds `expected`; True when it did (the patch's
        cmpxchg_user_* returning 0)."""
        with self._bus:
            if self.words.get(addr, 0) != expected:
                return False
            self.words[addr] = new
            return True

    def fetch_or(self, addr: int, bits: int) -> int:
        with self._bus:
            old = self.words.get(addr, 0)
            self.words[addr] = old | bits
            return old

    def fetch_and(self, addr: int, bits: int) -> int:
        with self._bus:
            old = self.words.get(addr, 0)
            self.words[addr] = old & bits
            return old
