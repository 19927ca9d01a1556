"""Regenerate docs/pictures/ (one picture of each kind) and print how long each took.

    python benchmarks/render_examples.py            # SVG + PNG into docs/pictures/
    python benchmarks/render_examples.py --report out/ --screenshot out/report.png

--report also writes the HTML report of the default configuration, and --screenshot takes a
picture of it with headless Chromium (Debian `chromium`), when it is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from checker import render as R  # noqa: E402
from checker.config import load  # noqa: E402
from checker.report import write_report  # noqa: E402
from checker.run import check  # noqa: E402


def timed(label: str, f):
    t0 = time.monotonic()
    out = f()
    print(f"  {label:48} {time.monotonic() - t0:6.2f} s", flush=True)
    return out


def screenshot(html_path: str, png: str) -> bool:
    exe = next((shutil.which(x) for x in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(x)), None)
    if exe is None:
        print("  no chromium: screenshot skipped (apt-get install chromium)")
        return False
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
           "--window-size=1400,2000", "file://" + os.path.abspath(html_path)]
    r = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    ok = r.returncode == 0 and os.path.exists(png)
    print(f"  screenshot {'written to ' + png if ok else 'failed: ' + r.stderr.decode()[-300:]}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "docs", "pictures"))
    ap.add_argument("--report", metavar="DIR", help="also write the default config's report")
    ap.add_argument("--screenshot", metavar="PNG", help="screenshot the report (chromium)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    def emit(name: str, source: str) -> None:
        for fmt in ("svg", "png"):
            R.write_atomic(os.path.join(a.out, f"{name}.{fmt}"), R.run_dot(source, fmt))

    print("default.toml (v0.2, 1 server, 2 workers, one preemption):")
    o = timed("check (safety only)", lambda: check(load(os.path.join(HERE, "configs",
                                                                       "default.toml")),
                                                   **_no_liveness()))
    print(f"  {o.result.states:,} states, {o.result.transitions:,} transitions")
    src = timed("roles: scan + DOT", lambda: R.roles_dot(o))
    timed("roles: dot -Tsvg, -Tpng", lambda: emit("roles-default", src))
    p = next(p for p in o.props if p.name == "no_deadlock")
    path = [s for _, s in o.path(p)]
    src = timed("graph (quotient, path of no_deadlock): DOT",
                lambda: R.graph_dot(o, path=path, path_label="counterexample of no_deadlock"))
    timed("graph: dot -Tsvg, -Tpng", lambda: emit("graph-default", src))
    src = timed("trace (no_deadlock): DOT",
                lambda: R.trace_dot(o.itf(p), R.actors_of(o.model)))
    timed("trace: dot -Tsvg, -Tpng", lambda: emit("trace-default-no_deadlock", src))
    print("preempt-locked.toml:")
    o2 = check(load(os.path.join(HERE, "configs", "preempt-locked.toml")), **_no_liveness())
    p2 = next(p for p in o2.props if o2.status(p) == "violated")
    emit("roles-preempt-locked", R.roles_dot(o2))
    emit(f"trace-preempt-locked-{p2.name}", R.trace_dot(o2.itf(p2), R.actors_of(o2.model)))
    print(f"  wrote roles and the {p2.name} trace")
    if a.report:
        full = check(load(os.path.join(HERE, "configs", "default.toml")))
        html_path = timed("HTML report of default", lambda: write_report(full, a.report))
        print(f"  {html_path}")
        if a.screenshot:
            screenshot(html_path, a.screenshot)
    return 0


def _no_liveness() -> dict:
    import inspect

    return {"liveness": False} if "liveness" in inspect.signature(check).parameters else {}


if __name__ == "__main__":
    sys.exit(main())
