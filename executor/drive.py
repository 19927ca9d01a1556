"""The two ways of driving the executor: many random executions, each conformance-checked
(`umcg-check run`), and one execution in the order of a checker trace (`umcg-check replay`)."""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from executor.conform import Conformance, Divergence, model_choices
from executor.kernel import ExecutorError, Hang, Options
from executor.threads import ENV_ACTIONS, STEP, Choice, Execution
from executor.vocab import memory_image


def options(p: Any) -> Options:
    """The executor's options from a model configuration's Params."""
    return Options(p.servers, tuple(p.ops), p.lock_before_wait, p.server_recheck, p.signals,
                   p.preemptions, p.cpus)


def _agree(ex: Execution, conf: Conformance, choices: list[Choice]) -> None:
    """The executor can take exactly the steps the model can (per task and event)."""
    mine, theirs = set(choices), model_choices(conf)
    if mine != theirs:
        raise Divergence(
            f"after step {conf.n}: the executor and the model can do different things next\n"
            f"  executor only: {sorted(mine - theirs) or '-'}\n"
            f"  model only:    {sorted(theirs - mine) or '-'}\n" + "\n".join(ex.describe()))


@dataclass
class RunReport:
    executions: int = 0
    steps: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    divergence: str | None = None
    hang: str | None = None
    interrupted: bool = False
    visited: int = 0

    @property
    def ok(self) -> bool:
        return self.divergence is None and self.hang is None


def run_random(model: Any, opts: Options, seconds: float, seed: int, max_steps: int = 2000,
               progress: Callable[[str], None] | None = None,
               plant: Callable[[Execution], None] | None = None,
               max_executions: int | None = None) -> RunReport:
    """Random executions until `seconds` pass; each step conformance-checked."""
    rng = random.Random(seed)
    conf = Conformance(model)
    rep = RunReport()
    t0 = time.monotonic()
    last = t0
    try:
        while time.monotonic() - t0 < seconds and (max_executions is None
                                                    or rep.executions < max_executions):
            ex = Execution(opts)
            ex.k.chooser = lambda t, key, opts_: rng.choice(opts_)
            if plant:
                plant(ex)
            try:
                ex.start()
                conf.reset()
                conf.check_init(ex.k.snapshot(ex.k))
                n = 0
                while True:
                    ch = ex.choices()
                    _agree(ex, conf, ch)
                    if not ch:
                        rep.outcomes[ex.outcome()] += 1
                        break
                    if n >= max_steps:
                        rep.outcomes["cut (step limit)"] += 1
                        break
                    conf.check(ex.step(rng.choice(ch)))
                    n += 1
                rep.steps += n
                rep.executions += 1
            except Divergence as e:
                rep.divergence = f"execution {rep.executions + 1} (seed {seed}): {e}"
                rep.steps += conf.n
                break
            except Hang as e:
                rep.hang = f"execution {rep.executions + 1} (seed {seed}): {e}"
                break
            except ExecutorError as e:
                rep.divergence = f"execution {rep.executions + 1} (seed {seed}): {e}"
                break
            finally:
                ex.close()
            now = time.monotonic()
            if progress and now - last >= 2:
                last = now
                progress(f"{rep.executions} executions, {rep.steps} steps, "
                         f"{len(conf.visited)} model states, {now - t0:.0f}s")
    except KeyboardInterrupt:
        rep.interrupted = True
    rep.seconds = time.monotonic() - t0
    rep.visited = len(conf.visited)
    return rep


def run_workload(name: str, seconds: float, seed: int, max_steps: int = 5000,
                 progress: Callable[[str], None] | None = None,
                 max_executions: int | None = None) -> RunReport:
    """Random executions of a program of executor/workloads.py; each checks its result
    (the model has no statement of these programs, so there is no conformance)."""
    from executor.workloads import WORKLOADS

    nworkers, _, check = WORKLOADS[name]
    opts = Options(servers=1, ops=((),) * nworkers, workload=name)
    rng = random.Random(seed)
    rep = RunReport()
    t0 = last = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds and (max_executions is None
                                                    or rep.executions < max_executions):
            with Execution(opts) as ex:
                ex.k.chooser = lambda t, key, opts_: rng.choice(opts_)
                try:
                    ex.start()
                    n = 0
                    while (ch := ex.choices()) and n < max_steps:
                        ex.step(rng.choice(ch))
                        n += 1
                except Hang as e:
                    rep.hang = f"execution {rep.executions + 1} (seed {seed}): {e}"
                    break
                rep.steps += n
                rep.executions += 1
                end = ex.outcome() if not ch else "cut (step limit)"
                wrong = check(ex.k) if end == "finished" else []
                rep.outcomes[f"wrong result: {wrong[0]}" if wrong else end] += 1
            now = time.monotonic()
            if progress and now - last >= 2:
                last = now
                progress(f"{rep.executions} executions, {rep.steps} steps, {now - t0:.0f}s")
    except KeyboardInterrupt:
        rep.interrupted = True
    rep.seconds = time.monotonic() - t0
    return rep


# ----------------------------------------------------------------------------- replay
class TraceError(Exception):
    """The trace file is not one this configuration can replay."""


def _plain(x: Any) -> Any:
    if isinstance(x, dict) and "#bigint" in x:
        return int(x["#bigint"])
    return x


@dataclass
class ReplayReport:
    steps: int = 0
    divergence: str | None = None
    confirmed: bool = False
    verdict: str = ""
    lines: list[str] = field(default_factory=list)


def replay(model: Any, opts: Options, doc: dict[str, Any], props: list[Any],
           show: Callable[[str], None] = lambda s: None, memory: bool = True) -> ReplayReport:
    """Drive the threads in the order of an ITF trace; compare every state; say whether
    the trace's violation happens on the executor."""
    from model.eval import value

    states = doc.get("states")
    if not isinstance(states, list) or not states or not all(isinstance(s, dict)
                                                            for s in states):
        raise TraceError("not an ITF trace: no list of states")
    meta = doc.get("#meta", {}) if isinstance(doc.get("#meta"), dict) else {}
    prop = meta.get("property")
    rep = ReplayReport()
    conf = Conformance(model)
    expected: dict[str, Any] = {}
    ex = Execution(opts)

    def chooser(t: Any, key: str, options_: list[Any]) -> Any:
        want = expected.get(key)
        for o in options_:
            if o.name == want:
                return o
        raise Divergence(f"{t.name}: the trace has {key} = {want}, not one of "
                         f"{[o.name for o in options_]}")

    ex.k.chooser = chooser

    def compare(i: int, want: dict[str, Any]) -> None:
        snap = ex.k.snapshot(ex.k)
        diff = [f"  {name}: trace {_plain(v)}, executor {snap.get(name, '<missing>')}"
                for name, v in want.items()
                if name not in ("action_taken", "task", "#meta") and _plain(v) != snap.get(name)]
        if diff:
            raise Divergence(f"state {i} differs from the trace:\n" + "\n".join(diff))

    try:
        ex.start()
        conf.check_init(ex.k.snapshot(ex.k))
        compare(0, states[0])
        for i, st in enumerate(states[1:], 1):
            action, task = st.get("action_taken"), st.get("task")
            if not isinstance(action, str) or not isinstance(task, str):
                raise TraceError(f"state {i}: no action_taken/task")
            if task not in ex.by_name:
                raise TraceError(f"state {i}: task {task!r} is not in this configuration")
            expected = {k: _plain(v) for k, v in st.items()}
            kind = action if action in ENV_ACTIONS else STEP
            ch = ex.choices()
            _agree(ex, conf, ch)
            if (kind, task) not in ch:
                raise Divergence(f"step {i}: {task} {action}: the executor cannot do it now\n"
                                 + "\n".join(ex.describe()))
            before = ex.k.snapshot(ex.k)
            rec = ex.step((kind, task))
            if rec.action != action:
                raise Divergence(f"step {i}: the trace has {task} {action}, the executor took "
                                 f"{rec.action}")
            conf.check(rec)
            compare(i, st)
            rep.steps = i
            changed = [f"{k} {before[k]} -> {v}" for k, v in rec.state.items() if before[k] != v]
            show(f"{i:3} {task:3} {action}: {', '.join(changed)}")
            if memory:
                for line in memory_image(ex.k):
                    show(line)
        loop = doc.get("loop")
        if isinstance(loop, int) and 0 <= loop < len(states) and meta.get("loop_closing_action"):
            _close_loop(ex, conf, meta["loop_closing_action"], states[loop], compare)
            show(f"    {meta['loop_closing_action']}: back to state {loop} (the cycle)")
        rep.confirmed, rep.verdict = _confirm(ex, conf, meta, prop, props, value)
    except (Divergence, ExecutorError, Hang) as e:
        rep.divergence = str(e)
    finally:
        ex.close()
    return rep


def _close_loop(ex: Execution, conf: Conformance, action: str, want: dict[str, Any],
                compare: Callable[[int, dict[str, Any]], None]) -> None:
    """Take a lasso's loop-closing step (ITF names its action, not its task: the task is
    the one whose step of that name leads back to the loop's first state)."""
    target = conf.encode({k: _plain(v) for k, v in want.items()
                          if k not in ("action_taken", "task", "#meta")})
    acts = conf.spec.actions
    tasks = {conf.spec.task_names[acts[a].task] for a, s2 in conf.successors(conf.s)
             if acts[a].name == action and s2 == target}
    if not tasks:
        raise Divergence(f"the model has no {action} back to the loop's first state")
    task = sorted(tasks)[0]
    rec = ex.step((action if action in ENV_ACTIONS else STEP, task))
    if rec.action != action:
        raise Divergence(f"closing the loop: the trace has {task} {action}, the executor "
                         f"took {rec.action}")
    conf.check(rec)
    compare(-1, want)


def _confirm(ex: Execution, conf: Conformance, meta: dict[str, Any], prop: Any,
             props: list[Any], value: Any) -> tuple[bool, str]:
    """Does the violation the trace claims show on the executor's final state?"""
    k = ex.k
    lasso = meta.get("lasso")
    if prop == "no_deadlock" or lasso == "deadlock":
        ch = ex.choices()
        if not ch and (ex.outcome() == "deadlock" or prop != "no_deadlock"):
            # a liveness lasso of kind deadlock ends in a state with no step at all
            return True, (f"{ex.outcome()}: no thread can step and no event can happen "
                          "(threads below)\n" + "\n".join(ex.describe()))
        if prop == "no_deadlock":
            # a spin: only self-loops are left (umcg_do_wake_loop)
            spins = [c for c in ch if c[0] == STEP]
            before = k.snapshot(k)
            for c in spins:
                rec = ex.step(c)
                conf.check(rec)
                if rec.state != before:
                    return False, f"no deadlock: {c[1]} can still move ({rec.action})"
            if spins:
                return True, "spin: every step left changes nothing (the ttwu spin)"
        return False, f"no deadlock: still possible: {ch}"
    if lasso == "livelock":
        return True, ("the cycle ran on the executor and came back to its first state "
                      "(a livelock)")
    if prop == "no_contract_breach":
        ok = k.died is not None
        return ok, f"umcg_die() killed {k.died.name}" if ok else "no umcg_die()"
    if prop == "no_unexpected_error":
        ok = k.aborted is not None
        return ok, (f"{k.aborted.name}'s user program aborted at {k.aborted.last}" if ok
                    else "no abort")
    p = next((p for p in props if p.name == prop and p.expr is not None), None)
    if p is None:
        return False, f"the trace names no property this configuration checks ({prop!r})"
    held = value(p.expr, conf.s)
    return (not held), (f"{prop} is false on the executor's final state" if not held
                        else f"{prop} holds on the executor's final state")


def print_report(rep: RunReport, name: str, total: int | None,
                 out: Callable[[str], None] = lambda s: print(s, file=sys.stdout)) -> None:
    rate = rep.steps / rep.seconds if rep.seconds else 0.0
    out(f"run {name}: {rep.executions} executions, {rep.steps} steps in {rep.seconds:.1f}s "
        f"({rep.executions / rep.seconds if rep.seconds else 0:.1f} executions/s, "
        f"{rate:.0f} steps/s)")
    cov = f" of {total} reachable ({100 * rep.visited / total:.1f}%)" if total else ""
    if rep.visited:
        out(f"  distinct model states visited: {rep.visited}{cov}")
    for o, c in sorted(rep.outcomes.items()):
        out(f"  {o}: {c}")
    out(f"  divergences: {0 if rep.divergence is None else 1}")
    if rep.divergence:
        out("DIVERGENCE " + rep.divergence)
    if rep.hang:
        out("HANG " + rep.hang)
    if rep.interrupted:
        out("  (interrupted)")


__all__ = ["ExecutorError", "run_random", "replay", "options", "RunReport", "ReplayReport",
           "TraceError", "print_report"]
