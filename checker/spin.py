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


@dataclass
class Measured:
    """One child process: its exit code, output, wall time and own peak memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_kib: int
    timed_out: bool


def run_measured(cmd: list[str], *, cwd: str | None = None, timeout: float | None = None,
                 mem_limit_bytes: int | None = None) -> Measured:
    """Run `cmd`; past `timeout` send SIGINT (pan then prints how far it got), then
    SIGKILL 10 s later.  Peak memory is the child's own ru_maxrss (wait4), so runs in one
    script do not see each other's peaks.  `mem_limit_bytes` caps its address space."""
    import resource
    import tempfile

    def limit() -> None:
        if mem_limit_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit_bytes, mem_limit_bytes))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True,
                             start_new_session=True, preexec_fn=limit)
        deadline = None if timeout is None else t0 + timeout
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                os.killpg(p.pid, signal.SIGKILL if timed_out else signal.SIGINT)
                timed_out = True
                deadline = time.monotonic() + 10
            time.sleep(0.02)
        seconds = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(p.returncode, out.read(), err.read(), seconds, ru.ru_maxrss, timed_out)


def run_pan(pan: str, *, all_errors: bool = True, max_depth: int = 1_000_000,
            hash_bits: int | None = None, timeout: float | None = None) -> PanResult:
    """Run a compiled pan: search the whole space (`all_errors`: -c0, count every error
    and go on) or stop at the first error (pan's default)."""
    cmd = [pan, f"-m{max_depth}"]
    if all_errors:
        cmd.append("-c0")
    if hash_bits:
        cmd.append(f"-w{hash_bits}")
    m = run_measured(cmd, cwd=os.path.dirname(pan) or ".", timeout=timeout)
    res = parse_pan(m.stdout + m.stderr)
    res.seconds = m.seconds
    res.max_rss_kib = m.max_rss_kib
    if m.timed_out:
        res.complete, res.stopped_by = False, "time"
    elif not all_errors and res.errors:
        res.complete, res.stopped_by = False, "error"
    return res


def parse_pan(out: str) -> PanResult:
    r = PanResult(output=out)
    # pan prints counts with %9.8g: exact below 10^8, eight significant digits above.
    m = re.search(r"^\s*([\d.e+]+) states, stored", out, re.M)
    r.states = int(float(m.group(1))) if m else 0
    m = re.search(r"^\s*([\d.e+]+) transitions \(= stored\+matched\)", out, re.M)
    r.transitions = int(float(m.group(1))) if m else 0
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
