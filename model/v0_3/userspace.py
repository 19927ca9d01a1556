"""The v0.3 user-space protocol: v0.2's (semantics §2.10) with the registration rule of v0.3
(server_tid == 0 at sys_umcg_ctl) and the list operations of atomic_stack.h (stacks.py)."""

from __future__ import annotations

from model.v0_2.common import RUNNING
from model.v0_3.common import K3
from model.variant import drop_actions


class UserSpaceMixinV03:
    def server(self, t: int) -> None:
        super().server(t)
        drop_actions(self.spec, t, {"sys_umcg_ctl.register_server"})
        V = self.V
        st, stid = V["state"][t], V["server_tid"][t]
        # v0.3 rejects server_tid != 0 at registration; the server stores its own TID after
        # sys_umcg_ctl returns (field doc: "should contain the TID of @self").  Folded: no
        # other task reads it before the server is on the idle-servers list.
        self.act("sys_umcg_ctl.register_server", t, "K", "u:srv.register",
                 (st == RUNNING) & (stid == 0) & (V["next_tid"][t] == 0),
                 {V["registered"][t]: 1, stid: t + 1}, "u:srv.loop",
                 K3("sys_umcg_ctl", "server_tid == 0 && next_tid == 0; state == RUNNING; "
                    "umcg_task = self; then user space: server_tid = self"))
