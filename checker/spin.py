"""Running SPIN on an exported model: `spin -a`, the C compiler, `./pan`, and its report.

Used by the equal-count test and benchmarks/vs_spin.py; docs/spin.md shows the same
steps by hand.  Each pan run is a child process whose own peak memory (ru_maxrss, from
wait4) and wall time are measured, with a time limit that kills it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

from checker.promela import ASSERT_RE

SETUP_HINT = "run `bash setup.sh` (it installs Debian's spin and gcc)"


class SpinError(Exception):
    """SPIN or the C compiler failed on an exported model (a bug of the exporter)."""


def missing_tools() -> list[str]:
    """The programs a SPIN run needs that are not on PATH."""
    return [t for t in ("spin", "gcc") if shutil.which(t) is None]


@dataclass
class PanResult:
    states: int = 0  # "states, stored"
    transitions: int = 0
    depth: int = 0
    errors: int = 0
    violated: set[str] = field(default_factory=set)  # property tags; "invalid end state"
    seconds: float = 0.0  # wall time of ./pan
    pan_seconds: float = 0.0  # pan's own "elapsed time"
    max_rss_kib: int = 0
    complete: bool = True
    stopped_by: str | None = None  # "time" | "memory" | "depth" | "error"
    output: str = ""


INVALID_END = "invalid end state"


def compile_pan(pml: str, workdir: str, *, reduce: bool = True, memlim_mb: int = 8192,
                opt: str = "-O2", extra: tuple[str, ...] = ()) -> tuple[str, float]:
    """Write `pml` into `workdir`, generate and compile the verifier; (pan path, seconds)."""
    os.makedirs(workdir, exist_ok=True)
    t0 = time.monotonic()
    with open(os.path.join(workdir, "model.pml"), "w") as f:
        f.write(pml)
    _run(["spin", "-a", "model.pml"], workdir, "spin -a")
    flags = [opt, f"-DMEMLIM={memlim_mb}", "-DSAFETY", *extra]
    if not reduce:
        flags.append("-DNOREDUCE")
    _run(["gcc", *flags, "-o", "pan", "pan.c"], workdir, "gcc")
    return os.path.join(workdir, "pan"), time.monotonic() - t0


def _run(cmd: list[str], cwd: str, what: str) -> None:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SpinError(f"{what} failed ({p.returncode}): {(p.stderr or p.stdout)[-2000:]}")


def run_pan(pan: str, *, all_errors: bool = True, max_depth: int = 1_000_000,
            hash_bits: int | None = None, timeout: float | None = None) -> PanResult:
    """Run a compiled pan: search the whole space (`all_errors`: -c0, count every error
    and go on) or stop at the first error (pan's default)."""
    cmd = [pan, f"-m{max_depth}"]
    if all_errors:
        cmd.append("-c0")
    if hash_bits:
        cmd.append(f"-w{hash_bits}")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=os.path.dirname(pan) or ".", stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    timed_out = False
    deadline = None if timeout is None else t0 + timeout
    # Read while waiting: pan's output is small, but a full pipe must not block it.
    chunks: list[str] = []
    assert p.stdout is not None
    os.set_blocking(p.stdout.fileno(), False)
    rusage = None
    while True:
        try:
            data = p.stdout.read()
            if data:
                chunks.append(data)
        except (BlockingIOError, TypeError):
            pass
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rusage = ru
            break
        if deadline is not None and time.monotonic() > deadline:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    rest = p.stdout.read()
    if rest:
        chunks.append(rest)
    out = "".join(chunks)
    res = parse_pan(out)
    res.seconds = time.monotonic() - t0
    res.max_rss_kib = rusage.ru_maxrss if rusage else 0
    if timed_out:
        res.complete, res.stopped_by = False, "time"
    elif not all_errors and res.errors:
        res.complete, res.stopped_by = False, "error"
    return res


def parse_pan(out: str) -> PanResult:
    r = PanResult(output=out)
    m = re.search(r"^\s*(\d+) states, stored", out, re.M)
    r.states = int(m.group(1)) if m else 0
    m = re.search(r"^\s*(\d+) transitions \(= stored\+matched\)", out, re.M)
    r.transitions = int(m.group(1)) if m else 0
    m = re.search(r"depth reached (\d+), errors: (\d+)", out)
    if m:
        r.depth, r.errors = int(m.group(1)), int(m.group(2))
    m = re.search(r"pan: elapsed time ([\d.e+]+) seconds", out)
    r.pan_seconds = float(m.group(1)) if m else 0.0
    r.violated = set(ASSERT_RE.findall(out))
    if re.search(r"pan:\d+: " + INVALID_END, out):
        r.violated.add(INVALID_END)
    if "max search depth too small" in out:
        r.complete, r.stopped_by = False, "depth"
    if "reached -DMEMLIM bound" in out or "out of memory" in out:
        r.complete, r.stopped_by = False, "memory"
    if "states, stored" not in out:
        r.complete = False
        r.stopped_by = r.stopped_by or "killed"
    return r
