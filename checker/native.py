"""The native engine: the model's BFS as a C program (checker/cgen.py), compiled and run.

``explore`` writes the C source, compiles it with ``gcc -O2`` once per source text (the
binary is cached by the source's hash), runs it with the limits, passes its progress lines
through to stderr, and reads its JSON result back into the Python explorer's ``Result``.
Counterexamples come back as action-index paths; ``NativeExplorer.path`` replays them through
the Python transition relation (checker/compile.py), so reports, ITF traces and render see the
same ``[(action, state)]`` paths as from the Python engine.  docs/native.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass

from checker.cgen import CTX_FINISHED, CTX_HALT, CTX_PROP, ERR_BYTE, ERR_DOMAIN, ERR_INDEX, generate
from checker.compile import Compiled, compile_spec
from checker.explore import DEADLOCKED, SPINNING, Limits, ModelError, Result
from checker.files import write_atomic
from checker.reductions import Reducer
from model.v0_2 import Model
from properties.base import DEADLOCK, INVARIANT, Property

SUPPORTED_REDUCTIONS = frozenset({"symmetry"})
CFLAGS = ("-O2", "-std=gnu11", "-w")


class NativeError(Exception):
    """The native engine cannot run here or was asked for what it does not do."""


def cache_dir() -> str:
    """$UMCG_NATIVE_CACHE, else $XDG_CACHE_HOME/umcg-check/native, else ~/.cache/..."""
    d = os.environ.get("UMCG_NATIVE_CACHE")
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "umcg-check", "native")


@dataclass
class Binary:
    path: str
    source_bytes: int
    compile_seconds: float  # 0 when it came from the cache
    cached: bool


def build(source: str, cflags: tuple[str, ...] = CFLAGS) -> Binary:
    """Compile `source` (or reuse the cached binary of the same source and flags)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NativeError("--engine native needs gcc, which is not installed "
                          "(setup.sh installs it; or use --engine python)")
    key = hashlib.sha256((source + "\0" + " ".join(cflags)).encode()).hexdigest()[:24]
    d = cache_dir()
    exe = os.path.join(d, f"umcg-{key}")
    if os.path.exists(exe):
        return Binary(exe, len(source), 0.0, True)
    try:
        os.makedirs(d, exist_ok=True)
        write_atomic(os.path.join(d, f"umcg-{key}.c"), source.encode())
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-umcg-")
        os.close(fd)
    except OSError as e:
        raise NativeError(f"native cache {d}: cannot write: {e.strerror} "
                          "(set UMCG_NATIVE_CACHE to a writable directory)") from None
    t0 = time.monotonic()
    try:
        r = subprocess.run([gcc, *cflags, "-o", tmp, os.path.join(d, f"umcg-{key}.c")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            first = (r.stderr.strip().splitlines() or ["(no message)"])[0]
            raise NativeError(f"gcc failed on the generated engine: {first}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, exe)  # the binary appears whole or not at all
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return Binary(exe, len(source), time.monotonic() - t0, False)


class NativeExplorer:
    """What Outcome needs of an explorer after a native run: paths to states by index."""

    def __init__(self, model: Model, props: list[Property], reducer: Reducer | None,
                 paths: dict[int, list[int]], compiled: Compiled | None = None) -> None:
        self.spec = model.spec
        self.reducer = reducer
        self.props = [p for p in props if p.kind == INVARIANT]
        self.compiled = compiled or compile_spec(model.spec)
        self.paths = paths
        # The native engine keeps its states in C; nothing of them lives here.
        self.states: list[bytes] = []
        self.parent = array("l")
        self.via = array("l")

    def path(self, i: int) -> list[tuple[int, bytes]]:
        """The native BFS path to state i, replayed through the Python successor function:
        each action must be enabled and give the next (representative) state, or the two
        engines disagree (an error, never a silent trace)."""
        if i not in self.paths:
            raise NativeError(f"the native engine returned no path to state {i}")
        succ = self.compiled.successors
        canon = self.reducer.canon if self.reducer is not None else (lambda s: s)
        cur = canon(self.spec.init_state())
        out = [(-1, cur)]
        for k, aid in enumerate(self.paths[i], start=1):
            t = next((t for a, t in succ(cur) if a == aid), None)
            if t is None:
                raise NativeError(f"native path to state {i}: step {k}, action "
                                  f"{self.spec.actions[aid].name} is not enabled (engine bug)")
            cur = canon(t)
            out.append((aid, cur))
        if self.reducer is not None:
            return self.reducer.concretize(out, succ)
        return out


def _error_text(model: Model, invariants: list[Property], err: dict) -> str:
    spec = model.spec
    ctx, value, where = err["ctx"], err["value"], err["where"]
    if ctx >= 0:
        a = spec.actions[ctx]
        task = spec.task_names[a.task] if a.task is not None else "-"
        who = f"action {a.name} (task {task})"
    elif ctx == CTX_HALT:
        who = "the halt condition"
    elif ctx == CTX_FINISHED:
        who = "the finished condition"
    else:
        who = f"property {invariants[CTX_PROP - ctx].name}"
    name = spec.vars[where].name if 0 <= where < len(spec.vars) else "?"
    if err["kind"] == ERR_INDEX:
        arr = next((a for a in spec.arrays.values() if a.base == where), None)
        name, n = (arr.name, len(arr)) if arr else ("?", 0)
        return f"model error: {who} indexes {name}[{value}], outside 0..{n - 1}"
    if err["kind"] == ERR_BYTE:
        return f"model error: {who} stores {value} into {name}, outside 0..255"
    if err["kind"] == ERR_DOMAIN:
        v = spec.vars[where]
        return (f"model error: {who} stores {value} into {name}, outside its domain "
                f"{v.domain.lo}..{v.domain.hi} (the native engine packs states by domain)")
    return f"model error: {who} shifts by a negative count {value}"


@dataclass
class NativeRun:
    result: Result
    explorer: NativeExplorer
    binary: Binary
    doc: dict


def explore(model: Model, props: list[Property], limits: Limits, which: frozenset[str],
            progress: bool = False, max_memory: int | None = None) -> NativeRun:
    """One exhaustive BFS by the native engine, with Result fields as the Python explorer's."""
    other = which - SUPPORTED_REDUCTIONS
    if other:
        raise NativeError(f"--engine native does not do --reduce {','.join(sorted(other))} "
                          "(only symmetry); use --engine python for por and dead")
    reducer = Reducer(model, props, which) if which else None
    sym = reducer.symmetry if reducer is not None else None
    invariants = [p for p in props if p.kind == INVARIANT and p.expr is not None]
    source = generate(model.spec, props, model.finished, sym)
    if progress:
        print(f"umcg-check: native engine: {len(source) // 1024} KiB of C for "
              f"{len(model.spec.actions)} actions", file=sys.stderr, flush=True)
    binary = build(source)
    if progress and not binary.cached:
        print(f"umcg-check: native engine compiled in {binary.compile_seconds:.1f} s",
              file=sys.stderr, flush=True)
    secs = limits.max_seconds or 0
    args = [binary.path, str(limits.max_states or 0), repr(float(secs)),
            str(max_memory or 0), "1" if progress else "0"]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=None, text=True)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise NativeError(f"the native engine ended with code {proc.returncode} and no "
                          "result (out of memory? try --max-memory)") from None
    if "model_error" in doc:
        raise ModelError(_error_text(model, invariants, doc["model_error"]))
    res = Result(states=doc["states"], transitions=doc["transitions"], depth=doc["depth"],
                 seconds=doc["seconds"], coverage=doc["coverage"], layers=doc["layers"])
    res.complete = doc["stopped_by"] is None
    res.stopped_by = doc["stopped_by"]
    for p, at in zip(invariants, doc["violations"], strict=True):
        if at >= 0:
            res.violations[p.name] = at
    res.premise_seen = {p.name: bool(seen) for p, seen in
                        zip(invariants, doc["premise_seen"], strict=True)
                        if p.premise is not None}
    for kind, (count, first) in doc["terminal"].items():
        res.terminal[kind] = count
        res.first_terminal[kind] = first
    deadlock = next((p.name for p in props if p.kind == DEADLOCK), None)
    if deadlock is not None:
        stuck = [res.first_terminal[k] for k in (DEADLOCKED, SPINNING)
                 if k in res.first_terminal]
        if stuck:
            res.violations[deadlock] = min(stuck)
    paths = {int(k): v for k, v in doc["paths"].items()}
    ex = NativeExplorer(model, props, reducer, paths)
    return NativeRun(res, ex, binary, doc)
