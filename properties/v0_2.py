"""Properties of the v0.2 model (semantics §8), as expressions over the model's variables."""

from __future__ import annotations

from model.lang import And, Expr, Implies, Or
from model.v0_2 import IDLE, LOCKED, RUNNING, Model
from properties.base import DEADLOCK, INVARIANT, Property

# The names properties() gives, in its order (configs are validated against these).
PROPERTY_NAMES = ("no_contract_breach", "no_unexpected_error", "INV-2", "INV-3", "INV-4",
                  "INV-9", "INV-11", "INV-12", "list_integrity", "no_deadlock")


def _running_in_user(m: Model, w: int) -> Expr:
    """Worker w executes user code as a registered, unlocked, RUNNING worker."""
    st = m.v["state"][w]
    return And(m.in_user(w), m.v["registered"][w] == 1, (st & 3) == RUNNING,
               (st & LOCKED) == 0)


def chain(m: Model, head_addr: int, length: int) -> list[Expr]:
    """Addresses of the first `length` nodes reachable from a list head (0 past the end).

    mem[0] (NULL) is always 0, so a chain that ended stays at 0."""
    mem = m.spec.arrays["mem"]
    node: Expr = mem[head_addr] >> 1  # type: ignore[assignment]
    out = [node]
    for _ in range(length - 1):
        node = mem[node] >> 1  # type: ignore[assignment]
        out.append(node)
    return out


def _wnode(t: int) -> int:
    return 3 + 2 * t


def _snode(t: int) -> int:
    return 4 + 2 * t


def on_list(nodes: list[Expr], addr: int) -> Expr:
    return Or(*[n == addr for n in nodes])


def list_ok(m: Model, nodes: list[Expr], members: list[int], node_of) -> Expr:
    """Every listed node is a registered task of the right kind; no node twice; ends."""
    conds = []
    for n in nodes[:-1]:
        conds.append(Or(n == 0, *[And(n == node_of(t), m.v["registered"][t] == 1)
                                  for t in members]))
    conds.append(nodes[-1] == 0)  # more nodes than tasks of that kind: a repeat or a cycle
    for i in range(len(nodes) - 1):
        for j in range(i + 1, len(nodes) - 1):
            conds.append(Or(nodes[i] == 0, nodes[i] != nodes[j]))
    return And(*conds)


def properties(m: Model) -> list[Property]:
    V = m.v
    W = [t.index for t in m.workers]
    S = [t.index for t in m.servers]
    iw = chain(m, 1, len(W) + 1)
    is_ = chain(m, 2, len(S) + 1)
    props: list[Property] = []

    props.append(Property(
        "no_contract_breach", INVARIANT,
        "no task is sent SIGSEGV by umcg_die() while user space follows the protocol",
        "semantics §8 INV-18; v0.2 umcg_die (kernel/sched/umcg.c)",
        m.g["died"] == 0))
    props.append(Property(
        "no_unexpected_error", INVARIANT,
        "user space never sees an error return or list state that the protocol does not "
        "expect (-EINVAL, -ESRCH, -EFAULT, a foreign node on a list)",
        "semantics §2.6 documented returns; design.md 'outcomes are states'",
        m.g["aborted"] == 0))
    props.append(Property(
        "INV-2", INVARIANT,
        "a RUNNING, unlocked worker running user code has a server (server_tid != 0)",
        "semantics §8 INV-2; v0.2 uapi struct umcg_task doc [S2]",
        And(*[Implies(_running_in_user(m, w), V["server_tid"][w] != 0) for w in W]),
        premise=Or(*[_running_in_user(m, w) for w in W])))
    inv3 = []
    for w in W:
        for s in S:
            inv3.append(Implies(And(_running_in_user(m, w), V["server_tid"][w] == s + 1),
                                V["state"][s] == IDLE))
    props.append(Property(
        "INV-3", INVARIANT,
        "while a worker runs user code as RUNNING, the server its server_tid names is IDLE",
        "semantics §8 INV-3; v0.2 sys_umcg_wait doc [S2]",
        And(*inv3), premise=Or(*[_running_in_user(m, w) for w in W])))
    inv4 = []
    for i, a in enumerate(W):
        for b in W[i + 1:]:
            inv4.append(Implies(And(_running_in_user(m, a), _running_in_user(m, b)),
                                V["server_tid"][a] != V["server_tid"][b]))
    props.append(Property(
        "INV-4", INVARIANT,
        "no two workers run user code as RUNNING with the same server (1:1 pairing)",
        "semantics §8 INV-4 (not checked by the v0.2 kernel)",
        And(*inv4) if inv4 else Or(1),
        premise=Or(*[_running_in_user(m, w) for w in W])))
    props.append(Property(
        "INV-9", INVARIANT,
        "the task type is fixed at registration: a server never carries PF_UMCG_WORKER",
        "semantics §8 INV-9; v0.2 uapi struct umcg_task doc [S2]",
        And(*[V["pf"][s] == 0 for s in S])))
    inv11 = [Implies(on_list(iw, _wnode(w)),
                     And((V["state"][w] & 3) == IDLE, V["pc"][w] >= m.kernel_labels.start))
             for w in W]
    props.append(Property(
        "INV-11", INVARIANT,
        "a worker on the idle-workers list is IDLE and not running user code",
        "semantics §8 INV-11; v0.2 uapi idle_workers_ptr doc [S2]",
        And(*inv11), premise=Or(*[on_list(iw, _wnode(w)) for w in W])))
    inv12 = [Implies(on_list(is_, _snode(s)),
                     And(V["state"][s] == IDLE, V["next_tid"][s] == 0)) for s in S]
    props.append(Property(
        "INV-12", INVARIANT,
        "a server on the idle-servers list is IDLE with next_tid == 0",
        "semantics §8 INV-12; v0.2 uapi struct umcg_task doc [S2]",
        And(*inv12), premise=Or(*[on_list(is_, _snode(s)) for s in S])))
    props.append(Property(
        "list_integrity", INVARIANT,
        "each idle list holds only registered tasks of its kind (workers' idle_workers_ptr, "
        "servers' idle_servers_ptr), no node twice, no cycle",
        "semantics §8 INV-11, INV-14; v0.2 atomic_stack_push_user/pop_user [S3]",
        And(list_ok(m, iw, W, _wnode), list_ok(m, is_, S, _snode))))
    props.append(Property(
        "no_deadlock", DEADLOCK,
        "some task can always make progress until every worker has finished its workload "
        "(a state where every enabled step is a spin counts as stuck)",
        "design.md 'deadlock detection'; semantics §2.11 (ttwu spin)"))
    return props
