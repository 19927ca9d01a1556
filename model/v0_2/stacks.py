"""v0.2's user-memory stacks with a lock bit in the head (kernel/sched/umcg.h, semantics §2.4)."""

from __future__ import annotations

from collections.abc import Callable

from model.lang import And, Cite


class StacksMixin:
    def stack_push(self, t: int, pre: str, actor: str, heads: list[int], node: int,
                   done: str, done_eff: dict, cite_fn: Callable[[str], Cite]) -> None:
        """atomic_stack_push_user(head, node) (§2.4), the head address in local `head`."""
        V, mem = self.V, self.mem
        head, first = V["head"][t], V["first"][t]
        fn = "atomic_stack_push_user" if actor == "K" else "server.idle_push"
        for h in heads:
            hv = self.ptr(h)
            # 1. read first = *head; 2. head locked by a concurrent pop: cpu_relax, retry.
            self.act(f"{fn}.head_locked_spin", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 1), {}, f"{pre}.read",
                     cite_fn("steps 1-2: first & 1, cpu_relax"), head=h)
            self.act(f"{fn}.read_head", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 0), {first: mem[h]}, f"{pre}.write",
                     cite_fn("step 1: get_user(first, head)"), head=h)
        # 3. *node = first
        self.act(f"{fn}.write_node", t, actor, f"{pre}.write", 1,
                 {mem[node]: first}, f"{pre}.cas", cite_fn("step 3: put_user(first, node)"))
        for h in heads:
            hv = self.ptr(h)
            eff = {mem[h]: self.ptr(node), first: 0, head: 0}
            eff.update(done_eff)
            self.act(f"{fn}.cmpxchg_ok", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] == first), eff, done,
                     cite_fn("step 4: cmpxchg(head, first, node) == 0"), head=h)
            self.act(f"{fn}.cmpxchg_eagain", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] != first), {first: 0}, f"{pre}.read",
                     cite_fn("step 4: -EAGAIN, retry"), head=h)

    def stack_pop(self, t: int, pre: str, actor: str, heads: list[int], done: str,
                  fail: Callable[[], dict], cite_fn: Callable[[str], Cite]) -> None:
        """atomic_stack_pop_user(head, &value) (§2.4); leaves the popped pointer in `first`."""
        V, mem = self.V, self.mem
        head, first, nxt = V["head"][t], V["first"][t], V["nxt"][t]
        fn = "atomic_stack_pop_user" if actor == "K" else "server.undo_pop"
        for h in heads:
            hv = self.ptr(h)
            self.act(f"{fn}.empty", t, actor, f"{pre}.read",
                     And(head == hv, mem[h] == 0), {first: 0, head: 0}, done,
                     cite_fn("steps 1-2: first == 0, *value = 0"), head=h)
            self.act(f"{fn}.head_locked_spin", t, actor, f"{pre}.read",
                     And(head == hv, (mem[h] & 1) == 1), {}, f"{pre}.read",
                     cite_fn("step 3: first & 1, cpu_relax"), head=h)
            self.act(f"{fn}.read_head", t, actor, f"{pre}.read",
                     And(head == hv, mem[h] != 0, (mem[h] & 1) == 0), {first: mem[h]},
                     f"{pre}.lock", cite_fn("step 1: get_user(first, head)"), head=h)
            self.act(f"{fn}.lock_cmpxchg_ok", t, actor, f"{pre}.lock",
                     And(head == hv, mem[h] == first), {mem[h]: first | 1}, f"{pre}.next",
                     cite_fn("step 4: cmpxchg(head, first, first | 1)"), head=h)
            self.act(f"{fn}.lock_cmpxchg_eagain", t, actor, f"{pre}.lock",
                     And(head == hv, mem[h] != first), {first: 0}, f"{pre}.read",
                     cite_fn("step 4: -EAGAIN, retry"), head=h)
        for a in range(1, self.naddr):
            self.act(f"{fn}.read_next", t, actor, f"{pre}.next",
                     (first >> 1) == a, {nxt: mem[a]}, f"{pre}.unlock",
                     cite_fn("step 5: get_user(next, first)"), node=a)
        for h in heads:
            hv = self.ptr(h)
            self.act(f"{fn}.unlock_cmpxchg_ok", t, actor, f"{pre}.unlock",
                     And(head == hv, mem[h] == (first | 1)), {mem[h]: nxt, nxt: 0, head: 0},
                     done, cite_fn("step 6: cmpxchg(head, first | 1, next)"), head=h)
            eff = fail()
            eff.update({nxt: 0})
            self.act(f"{fn}.unlock_cmpxchg_efault", t, actor, f"{pre}.unlock",
                     And(head == hv, mem[h] != (first | 1)), eff, None,
                     cite_fn("step 6: cmpxchg failed, return -EFAULT"), head=h)
