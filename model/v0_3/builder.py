"""The v0.3 state: v0.2's plus the list helpers' try counter and the user-space GC lock."""

from __future__ import annotations

from model.lang import BOOL, Domain
from model.v0_2.builder import BuilderBase
from model.v0_3.common import VERSION, max_tries


class BuilderBaseV03(BuilderBase):
    def _declare(self) -> None:
        super()._declare()
        s = self.spec
        s.name = f"umcg-{VERSION}"
        for t in self.servers:
            # v0.3 sys_umcg_ctl: server_tid must be 0 at registration (-EINVAL otherwise).
            self.V["server_tid"][t].init = 0
        bound = Domain(0, max_tries(self.n, self.p.cpus))
        tries = s.array("tries", bound, [0] * self.n, owners=list(range(self.n)), group="local",
                        labels=[t.name for t in self.tasks])
        for t, v in zip(self.tasks, tries.elems, strict=True):
            v.name = f"{t.name}.tries"
        self.V["tries"] = tries.elems
        self.g["gc_lock"] = s.var("gc_lock", BOOL, 0, group="user")
