"""Our explorer against SPIN on the same configurations, side by side in one run.

    python benchmarks/vs_spin.py                          # benchmarks/configs/*.toml
    python benchmarks/vs_spin.py --seconds 60 benchmarks/configs/1s2w-all.toml
    python benchmarks/vs_spin.py --markdown > table.md    # the table of docs/spin.md

For each configuration, four runs, each a child process with a time limit (--seconds) and
an 8 GiB memory limit (--memlim-mb), so the script ends in bounded time:

- ours, reductions off: `python -m checker.cli check CFG --json --no-liveness --reduce none`
  (until the reductions land, the CLI has no --reduce and the explorer has none: it is
  run as it is);
- ours, reductions on: the same with `--reduce all` (n/a while the CLI rejects it);
- ours native, reductions off / symmetry: the same with `--engine native --reduce none` or
  `symmetry` (docs/native.md); the engine is compiled first, its compile time and the C
  search's own seconds are in the note;
- SPIN with its default partial-order reduction, and with -DNOREDUCE: the model that
  `umcg-check export --promela` writes, `spin -a`, `gcc -O2 -DMEMLIM=...`, `./pan -c0`.

Both sides explore everything: our `check` reports every property, and pan runs with
-c0 (count every error and go on) instead of stopping at the first.  Times are the wall
time of the checking process (ours: the whole CLI, including building the model; SPIN:
./pan alone, its compile time is a column of its own); peak memory is that process's own
ru_maxrss.  Progress lines of our explorer are read from its stderr, so a run that runs
out of memory still reports how many states it reached.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from checker.spin import (  # noqa: E402
    INVALID_END,
    compile_pan,
    missing_tools,
    run_measured,
    run_pan,
)

MODE = ("full exploration on both sides: ours reports every property; pan -c0 counts "
        "every error and goes on")


@dataclass
class Run:
    engine: str
    states: int | None = None
    seconds: float | None = None
    rss_mib: float | None = None
    complete: bool = False
    status: str = ""  # "ok", "violation", "out of time", "out of memory", "n/a", ...
    violated: set[str] = field(default_factory=set)
    note: str = ""

    @property
    def rate(self) -> float | None:
        if self.states and self.seconds:
            return self.states / self.seconds
        return None


def say(msg: str) -> None:
    print(f"vs_spin: {msg}", file=sys.stderr, flush=True)


def ours(config: str, reduce: str, seconds: float, memlim_mb: int, native: bool = False) -> Run:
    engine = f"ours, reductions {'off' if reduce == 'none' else 'on'}"
    base = [sys.executable, "-m", "checker.cli", "check", config, "--json", "--no-liveness",
            "--max-seconds", str(seconds)]
    limit = memlim_mb * 1024 * 1024
    if native:
        return ours_native(config, reduce, base, seconds, memlim_mb)
    m = run_measured(base + ["--reduce", reduce], cwd=HERE, timeout=seconds + 60,
                     mem_limit_bytes=limit)
    note = ""
    if m.returncode == 2 and "--reduce" in m.stderr:
        if reduce != "none":
            return Run(engine, status="n/a", note="the CLI has no --reduce yet")
        note = "no --reduce yet: the explorer as is"
        m = run_measured(base, cwd=HERE, timeout=seconds + 60, mem_limit_bytes=limit)
    return _ours_result(Run(engine, seconds=m.seconds, rss_mib=m.max_rss_kib / 1024,
                            note=note), m)


def ours_native(config: str, reduce: str, base: list[str], seconds: float,
                memlim_mb: int) -> Run:
    """The native engine (docs/native.md): compiled first, so that the compile time is a note
    of its own like SPIN's, then the CLI (which finds the binary in the cache) is timed."""
    from checker.cgen import generate
    from checker.config import load
    from checker.native import build
    from checker.reductions import Reducer
    from checker.run import build_model

    engine = "ours native, " + ("reductions off" if reduce == "none" else reduce)
    model, props = build_model(load(config))
    sym = Reducer(model, props, frozenset({"symmetry"})).symmetry if reduce != "none" else None
    binary = build(generate(model.spec, props, model.finished, sym))
    # The engine's tables stop short of the process limit, so that the run ends as
    # incomplete with its figures instead of being killed.
    cmd = base + ["--engine", "native", "--reduce", reduce,
                  "--max-memory", f"{memlim_mb * 0.9 / 1024:.2f}"]
    m = run_measured(cmd, cwd=HERE, timeout=seconds + 60, mem_limit_bytes=memlim_mb << 20)
    r = _ours_result(Run(engine, seconds=m.seconds, rss_mib=m.max_rss_kib / 1024), m)
    doc = _doc(m.stdout)
    notes = ["compiled by an earlier row (same C)" if binary.cached
             else f"compile {binary.compile_seconds:.1f} s"]
    if doc is not None:  # the C search alone, without Python's start, model build and replay
        notes.append(f"search {doc['stats']['seconds']:.1f} s")
    r.note = "; ".join(notes + ([r.note] if r.note else []))
    return r


def _doc(stdout: str) -> dict | None:
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        return None


def _ours_result(r: Run, m) -> Run:  # noqa: ANN001 (checker.spin's Measured)
    """Fill r from one `check --json` run (or, killed, from its last progress line)."""
    doc = _doc(m.stdout)
    if doc is None:
        counts = re.findall(r"progress: ([\d,]+) states", m.stderr)
        r.states = int(counts[-1].replace(",", "")) if counts else None
        r.status = "out of memory" if "MemoryError" in m.stderr else \
            ("out of time" if m.timed_out else f"failed ({m.returncode})")
        if r.status.startswith("failed"):
            r.note = (m.stderr.strip().splitlines() or [""])[-1][:200]
        return r
    r.states = doc["stats"]["states"]
    r.violated = {p["name"] for p in doc["properties"] if p["status"] == "violated"}
    r.complete = doc["stopped_by"] is None
    r.status = {"max_seconds": "out of time", "max_memory": "out of memory"}.get(
        doc["stopped_by"], "violation" if r.violated else "ok")
    return r


def spin(pml, workdir: str, reduce: bool, seconds: float, memlim_mb: int,
         max_depth: int) -> Run:
    engine = "SPIN, " + ("default POR" if reduce else "-DNOREDUCE")
    pan, compile_s = compile_pan(pml.text, workdir, reduce=reduce, memlim_mb=memlim_mb)
    res = run_pan(pan, all_errors=True, max_depth=max_depth, timeout=seconds)
    r = Run(engine, states=res.states, seconds=res.seconds, rss_mib=res.max_rss_kib / 1024,
            complete=res.complete, note=f"compile {compile_s:.0f} s")
    r.violated = {"no_deadlock" if t == INVALID_END else pml.tags.get(t, t)
                  for t in res.violated}
    if res.stopped_by == "time":
        r.status = "out of time"
    elif res.stopped_by == "memory":
        r.status = "out of memory"
    elif res.stopped_by == "depth":
        r.status = f"depth > -m{max_depth}"
    elif not res.complete:
        r.status = f"failed: {res.output.strip().splitlines()[-1:]}"
    else:
        r.status = "violation" if r.violated else "ok"
    return r


def describe(r: Run) -> str:
    if r.status == "n/a":
        return "n/a"
    if r.status in ("ok", "violation"):
        return r.status + (f" ({len(r.violated)})" if r.violated else "")
    n = f"{r.states:,}" if r.states is not None else "?"
    return f"{r.status} at {n} states"


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def ratios(rows: list[Run]) -> dict[str, tuple[str, str]]:
    """Per ours-row: (time ours / SPIN's, SPIN's states/s / ours) against the SPIN run of
    the same mode (reductions off ~ -DNOREDUCE, on ~ default POR)."""
    by = {r.engine: r for r in rows}
    out = {}
    for mine, theirs in (("ours, reductions off", "SPIN, -DNOREDUCE"),
                         ("ours, reductions on", "SPIN, default POR"),
                         ("ours native, reductions off", "SPIN, -DNOREDUCE"),
                         ("ours native, symmetry", "SPIN, default POR")):
        a, b = by.get(mine), by.get(theirs)
        if a is None or b is None or a.status == "n/a":
            continue
        t = (fmt(a.seconds / b.seconds, ".1f") + "x"
             if a.complete and b.complete and a.seconds and b.seconds else "-")
        s = (fmt(b.rate / a.rate, ".1f") + "x" if a.rate and b.rate else "-")
        out[mine] = (t, s)
    return out


HEADER = ("config", "engine", "distinct states", "seconds", "states/s", "peak MiB",
          "verdict", "time ours/SPIN", "SPIN states/s / ours", "note")


def table_rows(results: list[tuple[str, list[Run]]]) -> list[tuple[str, ...]]:
    out = []
    for name, rows in results:
        rat = ratios(rows)
        for r in rows:
            t, s = rat.get(r.engine, ("", ""))
            out.append((name, r.engine, fmt(r.states, ","), fmt(r.seconds, ".1f"),
                        fmt(r.rate, ",.0f"), fmt(r.rss_mib, ",.0f"), describe(r), t, s, r.note))
    return out


def agreement(results: list[tuple[str, list[Run]]]) -> list[str]:
    lines = []
    for name, rows in results:
        done = [r for r in rows if r.complete]
        if len(done) < 2:
            continue
        counts = {r.engine: r.states for r in done}
        verdicts = {r.engine: tuple(sorted(r.violated)) for r in done}
        same = len(set(verdicts.values())) == 1
        lines.append(f"{name}: states {counts}; violated properties "
                     f"{'agree' if same else 'DIFFER'}: {sorted(done[0].violated)}"
                     + ("" if same else f" vs {verdicts}"))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="*", help="TOML configurations "
                    "(default: benchmarks/configs/*.toml, smallest first)")
    ap.add_argument("--seconds", type=float, default=100,
                    help="time limit of each run (default 100)")
    ap.add_argument("--memlim-mb", type=int, default=8192,
                    help="memory limit of each run in MiB (default 8192)")
    ap.add_argument("--max-depth", type=int, default=1_000_000,
                    help="pan's -m (DFS depth bound, default 10^6; these models reach a "
                    "few hundred)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--native-only", action="store_true",
                    help="of our engines only the native one (docs/native.md)")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    args = ap.parse_args()
    missing = missing_tools()
    if missing:
        print(f"vs_spin: {' and '.join(missing)} not found: run `bash setup.sh`",
              file=sys.stderr)
        return 2
    configs = args.configs or sorted(glob.glob(os.path.join(HERE, "benchmarks", "configs",
                                                            "*.toml")), key=_size_key)
    from checker.cmd_export import promela_of
    from checker.config import ConfigError, load

    results: list[tuple[str, list[Run]]] = []
    with tempfile.TemporaryDirectory(prefix="vs_spin-") as tmp:
        # A fresh native cache, so that every native row compiles (and says how long).
        os.environ["UMCG_NATIVE_CACHE"] = os.path.join(tmp, "native")
        for path in configs:
            try:
                cfg = load(path)
            except ConfigError as e:
                print(f"vs_spin: {e}", file=sys.stderr)
                return 2
            rows: list[Run] = []
            if not args.native_only:
                for reduce in ("none", "all"):
                    say(f"{cfg.name}: ours, --reduce {reduce}")
                    rows.append(ours(path, reduce, args.seconds, args.memlim_mb))
            for reduce in ("none", "symmetry"):
                say(f"{cfg.name}: ours native, --reduce {reduce} (compile, run)")
                rows.append(ours(path, reduce, args.seconds, args.memlim_mb, native=True))
            pml = promela_of(cfg)
            for reduce in (True, False) if not args.no_spin else ():
                say(f"{cfg.name}: SPIN {'POR' if reduce else 'NOREDUCE'} (compile, run)")
                rows.append(spin(pml, os.path.join(tmp, cfg.name, str(reduce)), reduce,
                                 args.seconds, args.memlim_mb, args.max_depth))
            for r in rows:
                say(f"  {r.engine}: {describe(r)}, {fmt(r.seconds, '.1f')} s")
            results.append((cfg.name, rows))
    rows_ = table_rows(results)
    title = (f"umcg-check vs SPIN ({MODE}); limits {args.seconds:g} s and "
             f"{args.memlim_mb} MiB per run")
    if args.markdown:
        print(f"{title}\n")
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for row in rows_:
            print("| " + " | ".join(row) + " |")
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for h in HEADER:
            t.add_column(h, justify="right" if h in ("distinct states", "seconds", "states/s",
                                                      "peak MiB") else "left")
        for row in rows_:
            t.add_row(*row)
        Console(width=200).print(t)
    print()
    for line in agreement(results):
        print(line)
    return 0


def _size_key(path: str) -> tuple[int, int, str]:
    """Order configurations by servers x workers, so the small ones come first."""
    import tomllib

    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return (raw.get("servers", 1) * raw.get("workers", 2),
            sum(len(o) for o in raw.get("workload", {}).get("ops", [])), path)


if __name__ == "__main__":
    sys.exit(main())
