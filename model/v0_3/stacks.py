"""v0.3's lists: bounded push, pop that marks a node deleted (bit 0 of the node's own next
word) instead of unlinking it, and the user-space garbage collection (semantics §3)."""

from __future__ import annotations

from collections.abc import Callable

from model.lang import And, Cite
from model.v0_3.common import HFILE, K3, U3, max_tries

ATOMIC_STACK = "atomic_stack.h (Oskolkov to Delisle, 2021-07-19, [S10a])"


class StacksMixinV03:
    def _tries(self) -> int:
        return max_tries(self.n, self.p.cpus)

    def stack_push(self, t: int, pre: str, actor: str, heads: list[int], node: int,
                   done: str, done_eff: dict, cite_fn: Callable[[str], Cite]) -> None:
        """umcg_sll_push(head, node, max_tries) for the kernel; atomic_stack_push for user
        space, which first garbage-collects the deleted nodes of the idle-servers list
        (the node it pushes may still be linked there, marked)."""
        V, mem = self.V, self.mem
        head, first, tries = V["head"][t], V["first"][t], V["tries"][t]
        kernel = actor == "K"
        fn = "umcg_sll_push" if kernel else "server.idle_push"
        read_at = f"{pre}.read"
        if not kernel:
            read_at = f"{pre}.push"
            self.gc(t, pre, heads[0], read_at)

        def c(step: str) -> Cite:
            if kernel:
                return K3("umcg_sll_push", step, "§3", HFILE)
            return U3(f"atomic_stack_push, {ATOMIC_STACK}", step)

        for h in heads:
            hv = self.ptr(h)
            if kernel:
                self.act(f"{fn}.tries_exhausted_die", t, actor, read_at,
                         And(head == hv, tries == self._tries()),
                         {**self.die(t), tries: 0, head: 0}, None,
                         K3("umcg_wq_worker_running",
                            "step 1: umcg_sll_push -EAGAIN: goto die (TODO: sleep+retry)"),
                         head=h)
            eff = {first: mem[h]}
            guard = head == hv
            if kernel:
                eff[tries] = tries + 1
                guard = And(guard, tries < self._tries())
            self.act(f"{fn}.read_head", t, actor, read_at, guard, eff, f"{pre}.write",
                     c("smp_mb; get_user(first, head)"), head=h)
        self.act(f"{fn}.write_node", t, actor, f"{pre}.write", 1, {mem[node]: first},
                 f"{pre}.cas", c("put_user(first, node); smp_mb"))
        for h in heads:
            hv = self.ptr(h)
            eff = {mem[h]: self.ptr(node), first: 0, head: 0}
            if kernel:
                eff[tries] = 0
            eff.update(done_eff)
            self.act(f"{fn}.cmpxchg_ok", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] == first), eff, done,
                     c("cmpxchg_user_64(head, &first, node) == 0"), head=h)
            self.act(f"{fn}.cmpxchg_eagain", t, actor, f"{pre}.cas",
                     And(head == hv, mem[h] != first), {first: 0}, read_at,
                     c("-EAGAIN: cpu_relax, next try"), head=h)

    def stack_pop(self, t: int, pre: str, actor: str, heads: list[int], done: str,
                  fail: Callable[[], dict], cite_fn: Callable[[str], Cite]) -> None:
        """umcg_sll_pop(head, &value, max_tries) (kernel) / atomic_stack_pop (user): walk
        from the head; skip a node whose next word has bit 0 set; mark the first live one
        with cmpxchg(next, next | 1).  Leaves the popped pointer in `first`."""
        V, mem = self.V, self.mem
        head, curr, nxt, tries = V["head"][t], V["first"][t], V["nxt"][t], V["tries"][t]
        kernel = actor == "K"
        fn = "umcg_sll_pop" if kernel else "server.undo_pop"
        bound = self._tries()

        def c(step: str) -> Cite:
            if kernel:
                return K3("umcg_sll_pop", step, "§3", HFILE)
            return U3(f"atomic_stack_pop, {ATOMIC_STACK}", step)

        for h in heads:
            self.act(f"{fn}.read_head", t, actor, f"{pre}.read", head == self.ptr(h),
                     {curr: mem[h], head: 0, tries: 0}, f"{pre}.loop",
                     c("smp_mb; get_user(curr, head)"), head=h)
        done_eff = {tries: 0, nxt: 0}
        self.act(f"{fn}.tries_exhausted", t, actor, f"{pre}.loop",
                 tries == bound, {**fail(), curr: 0, **done_eff}, None,
                 c("max_tries nodes checked: -EAGAIN (the caller dies)"))
        self.act(f"{fn}.empty", t, actor, f"{pre}.loop", And(curr == 0, tries < bound),
                 done_eff, done,
                 c("!curr: *value = 0, return 0"))
        self.act(f"{fn}.curr_marked_efault", t, actor, f"{pre}.loop",
                 And(curr != 0, (curr & 1) == 1, tries < bound), {**fail(), curr: 0,
                                                                   **done_eff}, None,
                 c("curr & 1: -EFAULT (should not happen)"))
        for a in range(1, self.naddr):
            live = And((curr >> 1) == a, (curr & 1) == 0, tries < bound)
            self.act(f"{fn}.read_next_deleted", t, actor, f"{pre}.loop",
                     And(live, (mem[a] & 1) == 1),
                     {curr: mem[a] - 1, tries: tries + 1}, f"{pre}.loop",
                     c("get_user(next, curr); next & 1: curr is deleted, curr = next & ~1"),
                     node=a)
            self.act(f"{fn}.read_next", t, actor, f"{pre}.loop", And(live, (mem[a] & 1) == 0),
                     {nxt: mem[a]}, f"{pre}.mark", c("get_user(next, curr)"), node=a)
            at = (curr >> 1) == a
            self.act(f"{fn}.mark_cmpxchg_ok", t, actor, f"{pre}.mark",
                     And(at, mem[a] == nxt), {mem[a]: nxt | 1, **done_eff}, done,
                     c("cmpxchg(curr, next, next | 1) == 0: *value = curr"), node=a)
            # The cmpxchg leaves the value it saw in `next`; the walk goes on from there.
            self.act(f"{fn}.mark_cmpxchg_eagain", t, actor, f"{pre}.mark",
                     And(at, mem[a] != nxt),
                     {curr: (mem[a] >> 1) << 1, nxt: 0, tries: tries + 1}, f"{pre}.loop",
                     c("-EAGAIN: curr = next & ~1, cpu_relax"), node=a)

    def gc(self, t: int, pre: str, h: int, done: str) -> None:
        """atomic_stack_gc on the idle-servers list before a server pushes itself again:
        unlink every node marked deleted.  Oskolkov: "most likely unsafe to run several
        instances concurrently" [S10a], so servers serialise it with a user-space lock."""
        V, mem, g = self.V, self.mem, self.g
        at, v, w = V["head"][t], V["first"][t], V["nxt"][t]
        lock = g["gc_lock"]

        def c(step: str) -> Cite:
            return U3(f"atomic_stack_gc, {ATOMIC_STACK}", step)

        self.act("server.gc.lock", t, "U", f"{pre}.read", lock == 0, {lock: 1, at: self.ptr(h)},
                 f"{pre}.gc.read", c("take the GC lock (one instance at a time)"))
        links = [h] + [self.snode(s) for s in self.servers]
        for a in links:
            here = (at >> 1) == a
            self.act("server.gc.end", t, "U", f"{pre}.gc.read", And(here, (mem[a] >> 1) == 0),
                     {lock: 0, at: self.ptr(h), v: 0}, done,
                     c("end of the list: release the GC lock, push"), link=a)
            self.act("server.gc.read_link", t, "U", f"{pre}.gc.read",
                     And(here, (mem[a] >> 1) != 0), {v: mem[a]}, f"{pre}.gc.next",
                     c("read the link to the next node"), link=a)
        for b in [self.snode(s) for s in self.servers]:
            nb = (v >> 1) == b
            self.act("server.gc.node_live", t, "U", f"{pre}.gc.next",
                     And(nb, (mem[b] & 1) == 0), {at: self.ptr(b), v: 0}, f"{pre}.gc.read",
                     c("node not deleted: step over it"), node=b)
            self.act("server.gc.node_deleted", t, "U", f"{pre}.gc.next",
                     And(nb, (mem[b] & 1) == 1), {w: mem[b]}, f"{pre}.gc.cas",
                     c("node marked deleted: unlink it"), node=b)
        for a in links:
            here = (at >> 1) == a
            # cmpxchg(link, v, next-of-deleted | mark-of-link): the link keeps its own mark.
            new = ((w >> 1) << 1) | (v & 1)
            self.act("server.gc.unlink_cmpxchg_ok", t, "U", f"{pre}.gc.cas",
                     And(here, mem[a] == v), {mem[a]: new, v: 0, w: 0}, f"{pre}.gc.read",
                     c("cmpxchg(link, node, node->next & ~1)"), link=a)
            self.act("server.gc.unlink_cmpxchg_eagain", t, "U", f"{pre}.gc.cas",
                     And(here, mem[a] != v), {at: self.ptr(h), v: 0, w: 0}, f"{pre}.gc.read",
                     c("-EAGAIN: the link changed, start over"), link=a)
