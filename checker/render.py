"""Pictures a reviewer reads, as Graphviz sources: role state machines, the state graph and
counterexample sequence charts (docs/pictures.md).

Every picture is built from one finished exploration (an `Outcome`) or from an ITF trace; the
DOT text is rendered by the `dot` binary.  Marked elements carry SVG classes and ids
(`undocumented`, `missing`, `path`, `violation`, `cycle`, ...) so that tests and style sheets
can find them.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from checker.cli import UsageError
from checker.compile import compile_expr
from checker.explore import DEADLOCKED, FINISHED, HALTED, SPINNING, Explorer
from checker.run import Outcome
from checker.trace import itf_value
from model.lang import Var

KINDS = ("roles", "graph", "trace")
FORMATS = ("svg", "png", "dot")
DEFAULT_CAP = 300
# Above this many abstract nodes a quotient is no longer a picture (and dot gets slow).
QUOTIENT_MAX = 800
DOT_TIMEOUT = 120.0

# v0.2 state word values as the model encodes them (model/v0_2/common.py).
_BYTE = ("NONE", "RUNNING", "IDLE", "BLOCKED")
_LOCKED = 4
_SHORT = {"NONE": "N", "RUNNING": "R", "IDLE": "I", "BLOCKED": "B"}

# --------------------------------------------------------------------------- DOT helpers


def q(s: object) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    t = str(s).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + t.replace("\n", "\\n") + '"'


def _attrs(**kw: object) -> str:
    parts = [f"{k.rstrip('_')}={q(v)}" for k, v in kw.items() if v is not None]
    return " [" + ", ".join(parts) + "]" if parts else ""


def _css_id(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", s).strip("-")


def dot_binary() -> str | None:
    return shutil.which("dot")


def run_dot(source: str, fmt: str = "svg", timeout: float = DOT_TIMEOUT) -> bytes:
    """Lay out and render DOT text; "dot" returns the source itself."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: not one of {', '.join(FORMATS)}")
    if fmt == "dot":
        return source.encode()
    exe = dot_binary()
    if exe is None:
        raise UsageError("the Graphviz `dot` program is not installed "
                         "(apt-get install graphviz, or --format dot)")
    try:
        r = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"dot took longer than {timeout:.0f} s; use a coarser "
                         "--abstraction or a smaller --cap") from None
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"dot failed: {msg[0] if msg else 'exit ' + str(r.returncode)}")
    return r.stdout


def svg_inline(svg: bytes) -> str:
    """SVG text fit for inlining in HTML: without the XML prolog and DOCTYPE."""
    text = svg.decode()
    i = text.find("<svg")
    return text[i:] if i >= 0 else text


# --------------------------------------------------------------------------- one pass


@dataclass
class Scan:
    """Every explored transition, folded onto a key (a tuple of slot values) per state."""

    slots: tuple[int, ...]
    nodes: Counter = field(default_factory=Counter)  # key -> states
    # (key before, key after, action index) -> transitions; kept when the key changes or
    # when the action writes a watched slot (a store of the value already there).
    edges: Counter = field(default_factory=Counter)
    internal: Counter = field(default_factory=Counter)  # key -> transitions inside it
    terminal: dict[Any, Counter] = field(default_factory=lambda: defaultdict(Counter))
    violating: dict[Any, Counter] = field(default_factory=lambda: defaultdict(Counter))
    initial: Any = None
    seconds: float = 0.0


_SCANS: weakref.WeakKeyDictionary[Explorer, dict] = weakref.WeakKeyDictionary()


def _getter(slots: tuple[int, ...]):
    if len(slots) == 1:
        s0 = slots[0]
        return lambda s: (s[s0],)
    return itemgetter(*slots)


def scan(outcome: Outcome, slots: tuple[int, ...], watch: Iterable[int] = ()) -> Scan:
    """One pass over all explored states and their successors (cached per exploration).

    Successors are recomputed rather than stored, as in checker/graph.py: the explorer keeps
    no edge list.  `watch`: slots whose rewrite with the same value still counts as an edge."""
    import time

    ex = outcome.explorer
    cache = _SCANS.setdefault(ex, {})
    watch = tuple(sorted(set(watch)))
    if (slots, watch) in cache:
        return cache[slots, watch]
    t0 = time.monotonic()
    key = _getter(slots)
    wset = set(watch)
    writes_watched = [bool(a.writes() & wset) for a in outcome.model.spec.actions]
    succ = ex.compiled.successors
    halt, finished = ex.halt, ex.finished
    # Only the invariants the exploration found violated can fail on a state: evaluating
    # just those (often none) instead of the whole conjunction saves most of a pass.
    checks = [(p.name, compile_expr(p.expr)) for p in ex.props
              if p.name in outcome.result.violations]
    sc = Scan(slots)
    nodes, edges, internal = sc.nodes, sc.edges, sc.internal
    # A run stopped by a limit has successors that were never explored: leave them out, as
    # checker/graph.py does (only then is the set worth its memory).
    known = None if outcome.result.complete else set(ex.states)
    for s in ex.states:
        ks = key(s)
        nodes[ks] += 1
        out = succ(s)
        if not out or all(t == s for _, t in out):
            if not out and halt(s):
                kind = HALTED
            elif not out and finished(s):
                kind = FINISHED
            else:
                kind = SPINNING if out else DEADLOCKED
            sc.terminal[ks][kind] += 1
        for name, ok in checks:
            if not ok(s):
                sc.violating[ks][name] += 1
        for aid, t in out:
            if known is not None and t not in known:
                continue
            kt = key(t)
            if kt != ks or writes_watched[aid]:
                edges[ks, kt, aid] += 1
            else:
                internal[ks] += 1
    sc.initial = key(ex.states[0]) if ex.states else None
    sc.seconds = time.monotonic() - t0
    cache[slots, watch] = sc
    return sc


# --------------------------------------------------------------------------- roles

# The v0.2 header's transitions (semantics §2.3) per role, with who writes the word:
# user space for the transitions it starts through sys_umcg_wait (Note 4, routes (a) and
# (b)); the kernel for block/wake detection and for waking servers (routes (c), (d)).
DOCUMENTED_V0_2: dict[str, dict[tuple[str, str], tuple[str, str]]] = {
    "server": {
        ("RUNNING", "IDLE"): ("U", "the task calls sys_umcg_wait(); user space writes IDLE"),
        ("IDLE", "RUNNING"): ("UK", "(a) a sys_umcg_wait() naming it, (b) RUNNING + signal, "
                                    "(c)/(d) the kernel wakes an idle or attached server"),
    },
    "worker": {
        ("RUNNING", "IDLE"): ("U", "the task calls sys_umcg_wait(); user space writes IDLE"),
        ("IDLE", "RUNNING"): ("U", "(a) a sys_umcg_wait() naming it, (b) RUNNING + signal"),
        ("RUNNING", "BLOCKED"): ("K", "the kernel, when a RUNNING worker blocks"),
        ("BLOCKED", "IDLE"): ("K", "the kernel, when the blocking operation finishes"),
    },
}
NEVER_V0_2 = (("IDLE", "BLOCKED"), ("BLOCKED", "RUNNING"))  # Note 1
NO_SERVER = "RUNNING (no server)"


@dataclass
class RoleEdge:
    role: str
    src: str
    dst: str
    kind: str  # documented | undocumented | flag | forbidden | attach | missing
    reason: str
    actions: Counter = field(default_factory=Counter)  # "action [K]" -> transitions

    @property
    def count(self) -> int:
        return sum(self.actions.values())


@dataclass
class Roles:
    role_tasks: dict[str, list[str]]
    nodes: dict[str, Counter]  # role -> node name -> (state, task) pairs
    edges: list[RoleEdge]
    seconds: float

    def of(self, role: str, kind: str | None = None) -> list[RoleEdge]:
        return [e for e in self.edges if e.role == role and (kind is None or e.kind == kind)]


def _byte(name: str) -> str:
    return name.split(" ")[0].split("|")[0]


def classify(role: str, src: str, dst: str, actor: str, action: str) -> tuple[str, str]:
    """Is one observed change of a task's word documented (semantics §2.3) for its role?"""
    locked = "|LOCKED" in src or "|LOCKED" in dst
    bs, bd = _byte(src), _byte(dst)
    who = {"K": "the kernel", "U": "user space", "E": "the environment"}.get(actor, actor)
    if src == dst:
        if actor == "K" and bs == "IDLE":
            return "undocumented", ("IDLE→IDLE: wake detection (K4, wq_worker_change_state(false))"
                                    " rewrites an IDLE worker on a spurious or signal wake-up "
                                    "and at registration; §2.8 (obs.), §2.9")
        if actor == "U" and bs == "RUNNING":
            return "undocumented", ("RUNNING→RUNNING: user space stores RUNNING into a word that "
                                    "already holds it: the task was already woken (a signal, "
                                    "§2.8 (obs.)) although the protocol assumes it IDLE")
        return "undocumented", f"{src}→{dst}: {who} rewrites the word with the same value"
    if {src, dst} <= {"RUNNING", NO_SERVER}:
        return "attach", "server_tid changed while RUNNING (not a change of the state word)"
    if locked:
        if actor == "U" and "|LOCKED" in dst:
            why = "user space sets LOCKED before sys_umcg_wait (Note 3)"
        elif actor == "K" and "|LOCKED" in src and bs == bd:
            why = "umcg_idle_loop clears LOCKED (Note 3: when the worker goes to sleep)"
        elif actor == "U" and "|LOCKED" in src:
            why = ("user space overwrites a LOCKED word before the kernel cleared the flag: "
                   "umcg_idle_loop's cmpxchg then fails with -EFAULT (§2.6)")
        else:
            why = f"{who} changes a LOCKED word"
        return "flag", f"{src}→{dst}: §2.3 lists no transition with UMCG_TF_LOCKED; {why}"
    if (bs, bd) in NEVER_V0_2:
        return "forbidden", f"{bs}→{bd}: Note 1 says this transition never happens"
    doc = DOCUMENTED_V0_2.get(role, {}).get((bs, bd))
    if doc is None:
        if role == "server" and "BLOCKED" in (bs, bd):
            return "undocumented", (f"{bs}→{bd} of a server: Note 2, only workers are subject "
                                    "to block/wake detection")
        return "undocumented", f"{bs}→{bd}: not among the transitions of §2.3"
    if actor not in doc[0]:
        if src == NO_SERVER and bd == "IDLE" and actor == "K":
            return "undocumented", ("RUNNING (no server)→IDLE: wake detection (K4) makes a "
                                    "RUNNING worker without a server IDLE and queues it; "
                                    "§2.8 (obs.), §2.9")
        if actor == "K" and (bs, bd) == ("RUNNING", "IDLE"):
            return "undocumented", ("RUNNING→IDLE by the kernel: K4 on a RUNNING worker without "
                                    "a server; §2.8 (obs.), §2.9")
        return "undocumented", (f"{bs}→{bd} written by {who}: §2.3 has "
                                f"{'the kernel' if doc[0] == 'K' else 'user space'} do it")
    return "documented", f"{bs}→{bd}: {doc[1]} (§2.3)"


def roles(outcome: Outcome) -> Roles:
    """Project every explored transition onto each task's UMCG state word, per role.

    A worker that is RUNNING with `server_tid == 0` is its own node: §2.2 says a RUNNING
    worker has a server, and wake detection treats it differently (§2.8 step 4).
    A transition that leaves the word unchanged counts only when an action writes the word
    (a kernel cmpxchg or a user store of the value already there); steps that merely run
    while the word stays put are not transitions of the role."""
    m = outcome.model
    tasks = m.tasks
    n = len(tasks)
    state_slots = tuple(m.v["state"][t.index].slot for t in tasks)
    srv_slots = tuple(m.v["server_tid"][t.index].slot for t in tasks)
    sc = scan(outcome, state_slots + srv_slots, state_slots)
    names = m.v["state"][0].domain.names or tuple(str(i) for i in range(8))
    actions = m.spec.actions
    writes = [a.writes() for a in actions]

    def node(t: int, key: tuple[int, ...]) -> str:
        w = key[t]
        if tasks[t].role == "worker" and w == 1 and key[n + t] == 0:
            return NO_SERVER
        return names[w]

    role_nodes: dict[str, Counter] = {"server": Counter(), "worker": Counter()}
    for key, c in sc.nodes.items():
        for t in range(n):
            role_nodes[tasks[t].role][node(t, key)] += c
    grouped: dict[tuple[str, str, str, str], RoleEdge] = {}
    for (ka, kb, aid), c in sc.edges.items():
        a = actions[aid]
        for t in range(n):
            src, dst = node(t, ka), node(t, kb)
            if src == dst and state_slots[t] not in writes[aid]:
                continue
            role = tasks[t].role
            kind, reason = classify(role, src, dst, a.actor, a.name)
            e = grouped.get((role, src, dst, reason))
            if e is None:
                e = grouped[role, src, dst, reason] = RoleEdge(role, src, dst, kind, reason)
            e.actions[f"{a.name} [{a.actor}]"] += c
    edges = list(grouped.values())
    for role, doc in DOCUMENTED_V0_2.items():
        if not any(t.role == role for t in tasks):
            continue
        for (src, dst), (_, what) in doc.items():
            if not any(e.role == role and e.kind == "documented" and _byte(e.src) == src
                       and _byte(e.dst) == dst for e in edges):
                edges.append(RoleEdge(role, src, dst, "missing",
                                      f"{src}→{dst}: documented ({what}, §2.3) but never "
                                      "taken in this exploration"))
    role_tasks = {r: [t.name for t in tasks if t.role == r] for r in ("server", "worker")}
    return Roles(role_tasks, role_nodes, edges, sc.seconds)


_EDGE_STYLE = {
    "documented": dict(color="black", fontcolor="black", penwidth="1.4"),
    "undocumented": dict(color="#d62728", fontcolor="#b01010", penwidth="2.4"),
    "flag": dict(color="#e67e00", fontcolor="#a05000", penwidth="2.4"),
    "forbidden": dict(color="#9b0d6b", fontcolor="#9b0d6b", penwidth="3", style="bold"),
    "attach": dict(color="#888888", fontcolor="#666666", style="dotted"),
    "missing": dict(color="#999999", fontcolor="#777777", style="dashed"),
}
_CLASS = {"documented": "documented", "undocumented": "undocumented",
          "flag": "undocumented flag", "forbidden": "undocumented forbidden",
          "attach": "attach", "missing": "missing"}


def roles_dot(outcome: Outcome, max_actions: int = 4) -> str:
    """Per role: the observed state machine beside the documented one (semantics §2.3)."""
    r = roles(outcome)
    cfg = outcome.config
    out = ["digraph roles {",
           '  graph [fontname="Helvetica", fontsize=12, rankdir=TB, nodesep=0.5, ranksep=0.7,'
           ' newrank=true, labelloc=t, label=' +
           q(f"UMCG state machines per role — {cfg.version}, config {cfg.name}: observed in "
             f"{outcome.result.states:,} explored states (left) vs documented, §2.3 (right)\n"
             "red: occurs but undocumented   orange: involves UMCG_TF_LOCKED   "
             "dashed grey: documented, never taken   edge counts = explored transitions")
           + "];",
           '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded,filled", '
           'fillcolor="#f4f4f4"];',
           '  edge [fontname="Helvetica", fontsize=9];']
    for role in ("server", "worker"):
        tasks = r.role_tasks[role]
        if not tasks:
            continue
        nodes = r.nodes[role]
        out.append(f"  subgraph cluster_{role}_obs {{")
        obs_label = f"{role} ({', '.join(tasks)}): observed"
        out.append(f"    label={q(obs_label)}; "
                   'style="rounded"; color="#4a6fa5"; fontsize=12;')
        present = set(nodes)
        for e in r.of(role):
            present |= {e.src, e.dst}
        for name in sorted(present, key=_node_order):
            c = nodes.get(name, 0)
            cls = "role-state"
            extra: dict[str, object] = {}
            if name == NO_SERVER or "|LOCKED" in name:
                cls += " undocumented-state"
                extra = dict(color="#d62728", style="rounded,filled,dashed")
            label = name + (f"\n{c:,} states" if c else "\n(never)")
            out.append(f"    {q(role + ':' + name)}" + _attrs(
                label=label, id_=_css_id(f"role-{role}-{name}"), class_=cls,
                tooltip=f"{role} task word {name}: in {c:,} (state, task) pairs", **extra))
        for k, e in enumerate(sorted(r.of(role), key=lambda e: (e.kind, e.src, e.dst))):
            top = e.actions.most_common()
            lines = [f"{a} ×{c:,}" for a, c in top[:max_actions]]
            if len(top) > max_actions:
                lines.append(f"+{len(top) - max_actions} more")
            if e.kind == "missing":
                lines = ["documented,", "never taken"]
            elif e.kind != "documented":
                lines.insert(0, {"undocumented": "UNDOCUMENTED", "flag": "LOCKED",
                                 "forbidden": "FORBIDDEN (Note 1)",
                                 "attach": "server_tid"}[e.kind])
            tip = e.reason + ("\n" + "\n".join(f"{a} ×{c:,}" for a, c in top) if top else "")
            out.append(f"    {q(role + ':' + e.src)} -> {q(role + ':' + e.dst)}" + _attrs(
                label="\n".join(lines), tooltip=tip, class_=_CLASS[e.kind],
                id_=_css_id(f"role-{role}-{e.kind}-{k}"), **_EDGE_STYLE[e.kind]))
        out.append("  }")
        out.append(f"  subgraph cluster_{role}_doc {{")
        out.append(f"    label={q(f'{role}: documented (v0.2 header, §2.3; Note 1)')}; "
                   'style="rounded,dashed"; color="#888888"; fontsize=12;')
        doc = DOCUMENTED_V0_2[role]
        dn = sorted({x for pair in doc for x in pair}, key=_node_order)
        for name in dn:
            out.append(f"    {q(role + ':doc:' + name)}" + _attrs(
                label=name, class_="doc-state", fillcolor="white"))
        for (src, dst), (who, what) in doc.items():
            w = {"U": "user", "K": "kernel", "UK": "user or kernel"}[who]
            out.append(f"    {q(role + ':doc:' + src)} -> {q(role + ':doc:' + dst)}" + _attrs(
                label=f"by {w}", tooltip=what, class_="doc-edge"))
        if role == "worker":
            for src, dst in NEVER_V0_2:
                out.append(f"    {q(role + ':doc:' + src)} -> {q(role + ':doc:' + dst)}" +
                           _attrs(label="never (Note 1)", class_="doc-never", style="dotted",
                                  color="#9b0d6b", fontcolor="#9b0d6b", constraint="false"))
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def _node_order(name: str) -> tuple[int, str]:
    order = ["NONE", "RUNNING", NO_SERVER, "IDLE", "BLOCKED"]
    b = name.split("|")[0]
    return (order.index(b) if b in order else 9, name)


# --------------------------------------------------------------------------- graph


@dataclass
class Abstraction:
    name: str
    vars: list[Var]

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(v.slot for v in self.vars)


def parse_abstraction(outcome: Outcome, spec: str) -> Abstraction:
    """`states` (every task's UMCG state word), `task:NAME` (one task's view: its word,
    server_tid, kernel __state and pc) or `vars:A,B,...` (any model variables)."""
    m = outcome.model
    by_name = {v.name: v for v in m.spec.vars}
    if spec == "states":
        return Abstraction("UMCG state words", [m.v["state"][t.index] for t in m.tasks])
    if spec.startswith("task:"):
        name = spec[5:]
        t = next((t for t in m.tasks if t.name == name), None)
        if t is None:
            raise UsageError(f"--abstraction {spec}: no task {name!r} (tasks: "
                             f"{', '.join(t.name for t in m.tasks)})")
        return Abstraction(f"{name}'s view", [m.v[f][t.index] for f in
                                              ("state", "server_tid", "kstate", "pc")])
    if spec.startswith("vars:"):
        names = [x.strip() for x in spec[5:].split(",") if x.strip()]
        bad = [x for x in names if x not in by_name]
        if not names or bad:
            raise UsageError(f"--abstraction {spec}: unknown variable(s) "
                             f"{', '.join(bad) or '(none given)'}; e.g. vars:W0.state,IWH")
        return Abstraction(", ".join(names), [by_name[x] for x in names])
    raise UsageError(f"--abstraction {spec}: use states, task:NAME or vars:VAR,VAR,...")


def _word_label(outcome: Outcome, s: bytes) -> str:
    m = outcome.model
    words = [(t.name, m.v["state"][t.index]) for t in m.tasks]
    return " ".join(f"{name}:{_short(m.fmt(v, s[v.slot]))}" for name, v in words)


def _short(word: str) -> str:
    b, _, flag = word.partition("|")
    return _SHORT.get(b, b) + ("+L" if flag else "")


def _scale(c: int) -> float:
    return 1.0 + 0.45 * math.log10(max(c, 1))


def graph_dot(outcome: Outcome, cap: int = DEFAULT_CAP, abstraction: str = "states",
              path: list[bytes] | None = None, path_label: str = "") -> str:
    """The reachable state graph: every state when there are at most `cap`, else the quotient
    by `abstraction`.  `path` (states of a counterexample) is highlighted."""
    r = outcome.result
    title = (f"state graph — {outcome.config.version}, config {outcome.config.name}: "
             f"{r.states:,} states, {r.transitions:,} transitions"
             + ("" if r.complete else f" (incomplete: {r.stopped_by})"))
    if r.states <= cap:
        return _full_graph(outcome, path, title, path_label)
    return _quotient_graph(outcome, parse_abstraction(outcome, abstraction), path, title,
                           path_label)


def _node_marks(terminal: Counter, violating: Counter, initial: bool,
                on_path: bool) -> tuple[list[str], dict[str, object], list[str]]:
    cls, attrs, notes = ["state"], {}, []
    fill = "#eef3fb"
    if terminal.get(DEADLOCKED) or terminal.get(SPINNING):
        cls.append("deadlock")
        attrs["shape"] = "octagon"
        fill = "#ffd9a0"
        for k in (DEADLOCKED, SPINNING):
            if terminal.get(k):
                notes.append(f"{k} ×{terminal[k]:,}")
    if terminal.get(HALTED):
        cls.append("halted")
        notes.append(f"halted ×{terminal[HALTED]:,}")
    if terminal.get(FINISHED):
        cls.append("finished")
        attrs["peripheries"] = 2
        notes.append(f"finished ×{terminal[FINISHED]:,}")
    if violating:
        cls.append("violating")
        fill = "#f7b4b4"
        notes += [f"✗ {p} ×{c:,}" for p, c in sorted(violating.items())]
    if initial:
        cls.append("initial")
        fill = "#b9e6b9"
        attrs["peripheries"] = 3
        notes.insert(0, "initial")
    if on_path:
        cls.append("on-path")
        attrs["color"] = "#d62728"
        attrs["penwidth"] = 3
    attrs["fillcolor"] = fill
    return cls, attrs, notes


def _quotient_graph(outcome: Outcome, ab: Abstraction, path: list[bytes] | None, title: str,
                    path_label: str) -> str:
    m = outcome.model
    words = tuple(m.v["state"][t.index].slot for t in m.tasks)
    # Fold through the roles scan when the abstraction is the state words: same pass.
    if ab.slots == words:
        srv = tuple(m.v["server_tid"][t.index].slot for t in m.tasks)
        base = scan(outcome, words + srv, words)
        sc = _project(base, len(words))
    else:
        sc = scan(outcome, ab.slots)
    if len(sc.nodes) > QUOTIENT_MAX:
        raise UsageError(f"--abstraction gives {len(sc.nodes):,} nodes (at most {QUOTIENT_MAX}); "
                         "choose a coarser one")
    key = _getter(ab.slots)
    path_keys = [key(s) for s in path] if path else []
    path_edges: dict[tuple, int] = {}
    for k in range(1, len(path_keys)):
        a, b = path_keys[k - 1], path_keys[k]
        if a != b:
            path_edges.setdefault((a, b), k)
    on_path = set(path_keys)
    ids = {k: f"n{i}" for i, k in enumerate(sorted(sc.nodes, key=lambda k: -sc.nodes[k]))}

    def label_of(k: tuple) -> str:
        return "\n".join(f"{v.name.removesuffix('.state')} {m.fmt(v, x)}"
                         for v, x in zip(ab.vars, k, strict=True))

    out = ["digraph stategraph {",
           '  graph [fontname="Helvetica", fontsize=12, labelloc=t, nodesep=0.35, ranksep=0.5,'
           ' label=' + q(f"{title}\nquotient by {ab.name}: {len(sc.nodes)} nodes "
                        "(size ~ states it stands for); green: initial, red: violates a "
                        "property, octagon: deadlock/spin; edges: transitions between nodes"
                        + (f"\nhighlighted: {path_label}" if path_label else "")) + "];",
           '  node [fontname="Helvetica", fontsize=9, shape=box, style="rounded,filled"];',
           '  edge [fontname="Helvetica", fontsize=8, color="#7a8aa0", arrowsize=0.6];']
    for k, c in sorted(sc.nodes.items(), key=lambda kv: -kv[1]):
        cls, attrs, notes = _node_marks(sc.terminal.get(k, Counter()),
                                        sc.violating.get(k, Counter()), k == sc.initial,
                                        k in on_path)
        if path_keys and k == path_keys[-1]:
            cls.append("path-end")
            attrs.update(xlabel="✗ path ends here", fontcolor="black")
        lab = label_of(k) + f"\n{c:,} states" + ("".join("\n" + x for x in notes))
        sz = _scale(c)
        tip = (f"{c:,} states, {sc.internal.get(k, 0):,} transitions inside\n"
               + label_of(k))
        out.append(f"  {ids[k]}" + _attrs(label=lab, id_=_css_id("node-" + ids[k]),
                                          class_=" ".join(cls), tooltip=tip,
                                          width=f"{sz * 0.9:.2f}", height=f"{sz * 0.45:.2f}",
                                          fontsize=f"{8 + 2 * math.log10(max(c, 1)):.1f}",
                                          **attrs))
    agg: dict[tuple, Counter] = defaultdict(Counter)
    for (a, b, aid), c in sc.edges.items():
        if a != b:
            agg[a, b][m.spec.actions[aid].name] += c
    for (a, b), acts in sorted(agg.items(), key=lambda kv: (ids[kv[0][0]], ids[kv[0][1]])):
        total = sum(acts.values())
        top = acts.most_common()
        lab = top[0][0] + (f" +{len(top) - 1}" if len(top) > 1 else "") + f"\n×{total:,}"
        tip = "\n".join(f"{n} ×{c:,}" for n, c in top)
        attrs: dict[str, object] = dict(penwidth=f"{0.6 + math.log10(total) * 0.8:.2f}")
        cls = "transition"
        eid = f"e-{ids[a]}-{ids[b]}"
        if (a, b) in path_edges:
            cls += " path"
            eid = f"path-edge-{path_edges[a, b]}"
            attrs.update(color="#d62728", penwidth="3.5", fontcolor="#b01010")
            lab = f"[{path_edges[a, b]}] " + lab
        out.append(f"  {ids[a]} -> {ids[b]}" + _attrs(label=lab, tooltip=tip, class_=cls,
                                                      id_=eid, **attrs))
    # Steps of the path that stay inside one node: one self-loop per run, so that a
    # counterexample which never changes the abstraction is still visible.
    k = 1
    while k < len(path_keys):
        if path_keys[k] == path_keys[k - 1]:
            j = k
            while j + 1 < len(path_keys) and path_keys[j + 1] == path_keys[k]:
                j += 1
            a = path_keys[k]
            out.append(f"  {ids[a]} -> {ids[a]}" + _attrs(
                label=f"[{k}..{j}] {j - k + 1} step(s) inside" if j > k else f"[{k}] inside",
                class_="transition path internal", id_=f"path-internal-{k}",
                color="#d62728", penwidth="3", fontcolor="#b01010", style="dashed"))
            k = j + 1
        else:
            k += 1
    out.append("}")
    return "\n".join(out) + "\n"


def _project(sc: Scan, n: int) -> Scan:
    """A scan on the first n slots of a finer one (no second pass over the states)."""
    out = Scan(sc.slots[:n])
    for k, c in sc.nodes.items():
        out.nodes[k[:n]] += c
    for (a, b, aid), c in sc.edges.items():
        if a[:n] != b[:n]:
            out.edges[a[:n], b[:n], aid] += c
        else:
            out.internal[a[:n]] += c
    for k, c in sc.internal.items():
        out.internal[k[:n]] += c
    for k, cnt in sc.terminal.items():
        out.terminal[k[:n]].update(cnt)
    for k, cnt in sc.violating.items():
        out.violating[k[:n]].update(cnt)
    out.initial = sc.initial[:n] if sc.initial is not None else None
    out.seconds = sc.seconds
    return out


def _full_graph(outcome: Outcome, path: list[bytes] | None, title: str,
                path_label: str) -> str:
    ex = outcome.explorer
    m = outcome.model
    index = {s: i for i, s in enumerate(ex.states)}
    succ = ex.compiled.successors
    pidx = [index.get(s) for s in path] if path else []
    path_edges: dict[tuple[int, int], int] = {}
    for k in range(1, len(pidx)):
        if pidx[k - 1] is not None and pidx[k] is not None:
            path_edges.setdefault((pidx[k - 1], pidx[k]), k)
    on_path = {i for i in pidx if i is not None}
    labels = len(ex.states) <= 60
    out = ["digraph stategraph {",
           '  graph [fontname="Helvetica", fontsize=12, labelloc=t, label=' +
           q(f"{title}\nevery state (S:R = server RUNNING, I IDLE, B BLOCKED, +L LOCKED); "
             "green: initial, red: violates, octagon: deadlock/spin"
             + (f"\nhighlighted: {path_label}" if path_label else "")) + "];",
           '  node [fontname="Helvetica", fontsize=8, shape=box, style="rounded,filled"];',
           '  edge [fontname="Helvetica", fontsize=7, color="#7a8aa0", arrowsize=0.5];']
    for i, s in enumerate(ex.states):
        o = succ(s)
        term: Counter = Counter()
        if not o or all(t == s for _, t in o):
            if not o and ex.halt(s):
                term[HALTED] += 1
            elif not o and ex.finished(s):
                term[FINISHED] += 1
            else:
                term[SPINNING if o else DEADLOCKED] += 1
        viol: Counter = Counter()
        if not ex.inv_ok(s):
            for p, ok in zip(ex.props, ex.inv_each(s), strict=True):
                if not ok:
                    viol[p.name] += 1
        cls, attrs, notes = _node_marks(term, viol, i == 0, i in on_path)
        if pidx and i == pidx[-1]:
            cls.append("path-end")
            attrs["xlabel"] = "✗ path ends here"
        pcs = ", ".join(f"{t.name}@{m.fmt(m.v['pc'][t.index], s[m.v['pc'][t.index].slot])}"
                        for t in m.tasks)
        out.append(f"  s{i}" + _attrs(label=f"#{i}\n{_word_label(outcome, s)}"
                                      + "".join("\n" + x for x in notes),
                                      id_=f"state-{i}", class_=" ".join(cls), tooltip=pcs,
                                      **attrs))
        for aid, t in o:
            j = index.get(t)
            if j is None:
                continue
            name = m.spec.actions[aid].name
            attrs2: dict[str, object] = {}
            cls2, eid = "transition", None
            if (i, j) in path_edges:
                cls2 += " path"
                eid = f"path-edge-{path_edges[i, j]}"
                attrs2 = dict(color="#d62728", penwidth="3", fontcolor="#b01010")
            out.append(f"  s{i} -> s{j}" + _attrs(label=name if labels else None, tooltip=name,
                                                  class_=cls2, id_=eid, **attrs2))
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- ITF traces


def _plain(x: Any) -> Any:
    if isinstance(x, dict) and "#bigint" in x:
        return int(x["#bigint"])
    return x


def _shown(x: Any) -> str:
    x = _plain(x)
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def itf_states(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The states of an ITF document with plain values (bigints as ints)."""
    try:
        states = doc["states"]
        return [{k: _plain(v) for k, v in s.items() if k != "#meta"} for s in states]
    except (KeyError, TypeError, AttributeError) as e:
        raise UsageError(f"not an ITF trace: {e}") from None


def itf_path(model: Any, doc: dict[str, Any]) -> list[bytes]:
    """Encode an ITF trace's states as the model's bytes states (for highlighting); with a
    loop, the cycle is closed by repeating its first state."""
    states = itf_states(doc)
    rev: dict[str, dict[str, int]] = {}
    for v in model.spec.vars:
        rev[v.name] = {}
        for x in range(v.domain.lo, v.domain.hi + 1):
            rev[v.name][_shown(itf_value(v, x, model.fmt))] = x
    out = []
    for k, st in enumerate(states):
        buf = bytearray(len(model.spec.vars))
        for v in model.spec.vars:
            if v.name not in st:
                raise UsageError(f"trace state {k} has no variable {v.name}: it is not a trace "
                                 "of this configuration's model")
            val = rev[v.name].get(_shown(st[v.name]))
            if val is None:
                raise UsageError(f"trace state {k}: {v.name} = {_shown(st[v.name])} is not a "
                                 "value of this model")
            buf[v.slot] = val
        out.append(bytes(buf))
    loop = doc.get("loop")
    if isinstance(loop, int) and 0 <= loop < len(out) and loop < len(out) - 1:
        out.append(out[loop])
    return out


# --------------------------------------------------------------------------- trace chart

# What a step shows beside it: the task's UMCG words, its kernel state, and the two locals
# that carry a race's outcome (the value a cmpxchg expects, a syscall's return value).
_LANE_FIELDS = ("state", "server_tid", "next_tid", "__state", "sigpending", "io",
                "umcg_task", "prev", "rv")
_ACTOR_STYLE = {
    "K": dict(shape="box", style="filled", fillcolor="#cfe0f5", color="#3465a4"),
    "U": dict(shape="box", style="rounded,filled", fillcolor="#d9f2d0", color="#3a7d22"),
    "E": dict(shape="hexagon", style="filled", fillcolor="#ffe2b3", color="#c77c00"),
    "?": dict(shape="box", style="dashed", fillcolor="white", color="#777777"),
}
_ACTOR_CLASS = {"K": "kernel", "U": "user", "E": "env", "?": "unknown"}


def _guess_actor(action: str) -> str:
    if action.startswith("env."):
        return "E"
    if action.startswith(("server.", "worker.")):
        return "U"
    return "K"


def trace_dot(doc: dict[str, Any], actors: dict[str, str] | None = None,
              title: str | None = None) -> str:
    """A counterexample as a sequence chart: one lane per task plus user memory."""
    states = itf_states(doc)
    if not states:
        raise UsageError("the ITF trace has no states")
    meta = doc.get("#meta", {}) if isinstance(doc.get("#meta"), dict) else {}
    vars_ = [v for v in doc.get("vars", list(states[0])) if v not in ("action_taken", "task")]
    tasks = [v[:-6] for v in vars_ if v.endswith(".state") and "." not in v[:-6]]
    if not tasks:
        raise UsageError("the ITF trace has no task state words (T.state variables)")
    lanes = tasks + ["mem"]
    workers = [t for t in tasks if t.startswith("W")]
    mem_vars = [v for v in vars_ if v in ("IWH", "ISH", "runq") or v.endswith("_ptr")]
    loop = doc.get("loop")
    loop = loop if isinstance(loop, int) and 0 <= loop < len(states) else None
    n = len(states) - 1
    prop = meta.get("property", "")
    actors = actors or {}

    def lane_of(var: str) -> str | None:
        t, _, f = var.partition(".")
        if var in mem_vars:
            return "mem"
        if t in tasks and f in _LANE_FIELDS:
            return t
        if var in ("umcg_die", "user_abort"):
            return "outcome"
        return None

    head = title or (f"counterexample: {prop} — config {meta.get('config', '?')} "
                     f"({meta.get('version', '?')}), {n} steps")
    legend = ("blue box: kernel step   green rounded: user-space step   orange hexagon: "
              "environment   → writes to another task or to user memory")
    if loop is not None:
        legend += ("\nyellow: the lasso's cycle (steps after state "
                   f"{loop} repeat forever)" if loop < n else
                   f"\nthe run stutters forever in the last state (state {loop})")
    out = ["digraph trace {",
           '  graph [fontname="Helvetica", fontsize=12, labelloc=t, rankdir=TB, newrank=true,'
           ' nodesep=0.25, ranksep=0.18, splines=true, label=' + q(head + "\n" + legend) + "];",
           '  node [fontname="Helvetica", fontsize=9];',
           '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.6];']
    # Row 0: lane headers with the initial values.
    s0 = states[0]
    heads = []
    for ln in lanes:
        if ln == "mem":
            vals = [f"{v} {_shown(_mask(s0[v], workers) if v == 'runq' else s0[v])}"
                    for v in mem_vars if v in ("IWH", "ISH", "runq")]
            lab = "user memory\n" + "\n".join(vals)
        else:
            lab = f"{ln}\n{_shown(s0.get(ln + '.state', '?'))}"
            if ln + ".__state" in s0:
                lab += f"\n{_shown(s0[ln + '.__state'])}"
        heads.append(f"h_{_css_id(ln)}")
        out.append(f"  h_{_css_id(ln)}" + _attrs(label=lab, shape="box", style="filled,bold",
                                                 fillcolor="#333333", fontcolor="white",
                                                 class_="lane-head", id_=f"lane-{_css_id(ln)}"))
    out.append(_row(heads))
    prev_cell = {ln: f"h_{_css_id(ln)}" for ln in lanes}
    step_node: dict[int, str] = {}
    for k in range(1, n + 1):
        before, after = states[k - 1], states[k]
        action = str(after.get("action_taken", "?"))
        task = str(after.get("task", "")) or "?"
        actor = actors.get(action) or _guess_actor(action)
        changed = [v for v in vars_ if before.get(v) != after.get(v)]
        own = task if task in tasks else "mem"
        cells: dict[str, list[str]] = defaultdict(list)
        for v in changed:
            ln = lane_of(v)
            if ln is None or ln == "outcome":
                continue
            fld = v.partition(".")[2] if ln != "mem" else v
            b, a = before.get(v), after.get(v)
            if fld in ("prev", "rv") and _shown(a) in ("NONE", "0"):
                continue  # a dead local being cleared, not news
            if v == "runq":
                b, a = _mask(b, workers), _mask(a, workers)
            cells[ln].append(f"{fld}: {_shown(b)} → {_shown(a)}")
        outcome_lines = [f"{v}: {_shown(after.get(v))}" for v in changed
                         if lane_of(v) == "outcome"]
        row = []
        cls = ["step", _ACTOR_CLASS.get(actor, "unknown")]
        style = dict(_ACTOR_STYLE.get(actor, _ACTOR_STYLE["?"]))
        in_cycle = loop is not None and loop < k
        if in_cycle:
            cls.append("cycle")
            style["fillcolor"] = "#fff3a6"
        last = k == n
        if last:
            cls.append("violation")
            style.update(color="#d62728", penwidth="3", peripheries="2")
        lines = [f"{k}  {action}"] + cells.pop(own, []) + outcome_lines
        sid = f"t{k}_{_css_id(own)}"
        step_node[k] = sid
        last_own = own
        tip = f"step {k}: {task} {action} [{actor}]\n" + "\n".join(
            f"{v}: {_shown(before.get(v))} → {_shown(after.get(v))}" for v in changed)
        out.append(f"  {sid}" + _attrs(label="\n".join(lines), class_=" ".join(cls),
                                       id_="violation-step" if last else f"step-{k}",
                                       tooltip=tip, **style))
        for ln in lanes:
            nid = f"t{k}_{_css_id(ln)}"
            if ln == own:
                row.append(sid)
            elif ln in cells:
                out.append(f"  {nid}" + _attrs(label="\n".join(cells[ln]), shape="note",
                                               style="filled", fillcolor="#fafafa",
                                               fontsize="8", class_="effect",
                                               id_=f"effect-{k}-{_css_id(ln)}"))
                row.append(nid)
            else:
                out.append(f"  {nid} [shape=point, width=0.03, color=\"#bbbbbb\", "
                           "label=\"\"];")
                row.append(nid)
            out.append(f"  {prev_cell[ln]} -> {nid} [dir=none, color=\"#cccccc\", "
                       "weight=100];")
            prev_cell[ln] = nid
        out.append(_row(row))
        for ln in cells:
            if ln != own:
                out.append(f"  {sid} -> t{k}_{_css_id(ln)}" + _attrs(
                    class_="write", color="#555555", constraint="false"))
    # The end: what is wrong in the last state.
    end_lane = last_own if n else lanes[0]
    end_text = f"✗ {prop} violated" if prop else "end of trace"
    if meta.get("lasso"):
        end_text += f" ({meta['lasso']})"
    if loop is not None:
        end_text += (f"\nloops back to state {loop}" if loop < n
                     else "\nstutters here forever")
    last_state = states[-1]
    for t in tasks:
        bits = [_shown(last_state.get(f"{t}.{f}", "")) for f in ("state", "__state", "pc")]
        end_text += f"\n{t}: {bits[0]}, {bits[1]}, at {bits[2]}"
    out.append("  end" + _attrs(label=end_text, shape="box", style="filled",
                                fillcolor="#d62728", fontcolor="white", class_="verdict",
                                id_="verdict"))
    out.append(f"  {prev_cell[end_lane]} -> end "
               "[dir=none, color=\"#cccccc\", weight=100];")
    if loop is not None and n:
        closing = meta.get("loop_closing_action", "")
        target = step_node.get(loop, f"h_{_css_id(lanes[0])}") if loop < n else step_node[n]
        out.append(f"  {step_node[n]} -> {target}" + _attrs(
            class_="lasso", id_="lasso-back", color="#c7a500", penwidth="2.5", style="dashed",
            constraint="false", fontcolor="#8a7200",
            label=f"loop to state {loop}" + (f"\nvia {closing}" if closing else "")))
    out.append("}")
    return "\n".join(out) + "\n"


def _mask(x: Any, names: list[str]) -> Any:
    # runq is a bitmask over the workers in order (model/v0_2/builder.py).
    if not isinstance(x, int) or isinstance(x, bool):
        return x
    return "{" + ",".join(n for i, n in enumerate(names) if x >> i & 1) + "}"


def _row(nodes: list[str]) -> str:
    # Flat invisible edges inside a rank fix the left-to-right order of the lanes.
    return "  { rank=same; " + " -> ".join(nodes) + " [style=invis]; }"


def actors_of(model: Any) -> dict[str, str]:
    return {a.name: a.actor for a in model.spec.actions}
