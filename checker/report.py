"""A self-contained HTML page of one run (`umcg-check check CONFIG --report DIR`): verdicts,
statistics, the pictures of checker/render.py inlined as SVG, per violation its sequence
chart and step table, and action coverage.  No scripts, fonts or links to fetch: the page
must open offline and in a headless browser."""

from __future__ import annotations

import html
import os
import time
from typing import Any

from checker.files import write_atomic
from checker.run import Outcome

CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1600px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px;
  border-bottom: 1px solid #ccc; padding-bottom: 4px; } h3 { font-size: 15px; }
.sub { color: #666; margin-top: 0; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 4px; font-weight: bold;
  color: white; font-size: 16px; }
.verdict.ok { background: #2e7d32; } .verdict.violation { background: #c62828; }
.verdict.incomplete { background: #ef6c00; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.violated { color: #c62828; font-weight: bold; } .holds { color: #2e7d32; }
.not-checked { color: #ef6c00; }
.pic { overflow-x: auto; border: 1px solid #e5e5e5; padding: 6px; margin: 8px 0; }
.pic svg { max-width: 100%; height: auto; }
.pic.tall svg { max-width: none; }
.pic.graph svg { max-height: 1100px; width: auto; }
.steps td.who-K { background: #e3edf9; } .steps td.who-U { background: #e6f5e0; }
.steps td.who-E { background: #fff0d6; }
.steps .chg { font-family: monospace; font-size: 12px; color: #444; white-space: pre; }
.never { color: #999; } .note { color: #666; font-size: 13px; }
.kind-undocumented, .kind-forbidden { color: #c62828; } .kind-flag { color: #b35c00; }
.kind-missing { color: #777; }
code { background: #f6f6f6; padding: 0 3px; }
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _picture(source: str, tall: bool = False, cls: str = "") -> str:
    """Inline SVG of a DOT source, or the DOT text when it cannot be drawn here."""
    from checker import render as R
    from checker.cli import UsageError

    try:
        svg = R.svg_inline(R.run_dot(source, "svg"))
    except UsageError as e:
        return (f'<p class="note">picture not drawn: {_e(e)}</p>'
                f"<details><summary>DOT source</summary><pre>{_e(source)}</pre></details>")
    return f'<div class="pic{" tall" if tall else ""} {cls}">{svg}</div>'


def _stats(o: Outcome) -> str:
    r = o.result
    rate = r.states / r.seconds if r.seconds > 0 else 0.0
    rows = [("distinct states", f"{r.states:,}"), ("transitions", f"{r.transitions:,}"),
            ("BFS depth", str(r.depth)), ("seconds", f"{r.seconds:.2f}"),
            ("states/s", f"{rate:,.0f}"),
            ("end states", ", ".join(f"{k} {v:,}" for k, v in sorted(r.terminal.items()))
             or "none"),
            ("complete", "yes" if r.complete else f"no (stopped by {r.stopped_by})")]
    live = getattr(o, "liveness_seconds", None)
    if live:
        rows.append(("liveness seconds", f"{live:.2f}"))
    return "<table>" + "".join(f"<tr><th>{_e(a)}</th><td>{_e(b)}</td></tr>"
                               for a, b in rows) + "</table>"


def _params(o: Outcome) -> str:
    p = o.config.params
    ops = "; ".join(f"{t.name}: {', '.join(p.ops[i]) or '-'}"
                    for i, t in enumerate(o.model.workers))
    return (f"{p.servers} server(s), {p.workers} worker(s); ops {ops}; "
            f"lock_before_wait={str(p.lock_before_wait).lower()}, "
            f"server_recheck={str(p.server_recheck).lower()}; signals={p.signals}, "
            f"preemptions={p.preemptions}")


def _properties(o: Outcome) -> str:
    r = o.result
    rows = []
    for p in o.props:
        st = o.status(p)
        steps = o.trace_steps(p) if st == "violated" else None
        extra = f"{len(steps)} steps" if steps is not None else ""
        if p.name in r.premise_seen and not r.premise_seen[p.name]:
            extra = "vacuous: its premise never held"
        link = (f'<a href="#cex-{_e(p.name)}">{_e(p.name)}</a>' if steps is not None
                else _e(p.name))
        rows.append(f"<tr><td>{link}</td><td>{_e(p.kind)}</td>"
                    f'<td class="{_e(st)}">{_e(st)}</td><td>{_e(extra)}</td>'
                    f"<td>{_e(p.statement)}</td><td>{_e(p.source)}</td></tr>")
    return ("<table><tr><th>property</th><th>kind</th><th>status</th><th>counterexample</th>"
            "<th>statement</th><th>source</th></tr>" + "".join(rows) + "</table>")


def _roles_table(o: Outcome) -> str:
    from checker import render as R

    rl = R.roles(o)
    rows = []
    for e in sorted(rl.edges, key=lambda e: (e.role, e.kind == "documented", e.kind, e.src)):
        acts = "<br>".join(f"{_e(a)} ×{c:,}" for a, c in e.actions.most_common())
        rows.append(f"<tr><td>{_e(e.role)}</td><td>{_e(e.src)} → {_e(e.dst)}</td>"
                    f'<td class="kind-{_e(e.kind)}">{_e(e.kind)}</td><td>{acts}</td>'
                    f"<td>{_e(e.reason)}</td></tr>")
    return ("<table><tr><th>role</th><th>transition</th><th>kind</th>"
            "<th>actions × explored transitions</th><th>why</th></tr>" + "".join(rows)
            + "</table>")


def _steps_table(o: Outcome, p: Any) -> str:
    rows = []
    for s in o.trace_steps(p) or []:
        chg = "\n".join(f"{n}: {a} -> {b}" for n, a, b in s.changed)
        rows.append(f'<tr><td class="num">{s.index}</td><td>{_e(s.task)}</td>'
                    f'<td class="who-{_e(s.actor)}">{_e(s.actor)}</td><td>{_e(s.action)}</td>'
                    f'<td>{_e(s.citation)}</td><td class="chg">{_e(chg)}</td></tr>')
    return ('<table class="steps"><tr><th>step</th><th>task</th><th>who</th><th>action</th>'
            "<th>citation</th><th>changed (before -> after)</th></tr>" + "".join(rows)
            + "</table>")


def _coverage(o: Outcome) -> str:
    cov = o.coverage()
    fired = sum(1 for c in cov.values() if c)
    rows = "".join(f'<tr class="{"never" if not c else ""}"><td class="num">{c:,}</td>'
                   f"<td>{_e(n)}</td></tr>"
                   for n, c in sorted(cov.items(), key=lambda x: (-x[1], x[0])))
    never = [n for n, c in cov.items() if not c]
    return (f"<p>{fired} of {len(cov)} actions fired (counts are explored transitions).</p>"
            + (f"<p>never fired: {', '.join(f'<code>{_e(n)}</code>' for n in never)}</p>"
               if never else "")
            + "<details><summary>every action</summary><table><tr><th>fired</th>"
            f"<th>action</th></tr>{rows}</table></details>")


def report_html(o: Outcome) -> str:
    """The whole page as a string."""
    from checker import render as R

    t0 = time.monotonic()
    cfg = o.config
    verdict = o.verdict
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>umcg-check {_e(cfg.name)}: {_e(verdict)}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>umcg-check {_e(cfg.version)} — config {_e(cfg.name)}</h1>",
             f'<p class="sub">{_e(cfg.description)}{" — " + _e(cfg.path) if cfg.path else ""}'
             f"<br>{_e(_params(o))}</p>",
             f'<p><span class="verdict {_e(verdict)}">{_e(verdict.upper())}</span></p>']
    fair = getattr(o, "fairness_text", None)
    if callable(fair) and any(p.kind == "liveness" for p in o.props):
        parts.append(f'<p class="note">liveness assumes: {_e(fair())}</p>')
    parts += ["<h2>Statistics</h2>", _stats(o), "<h2>Properties</h2>", _properties(o)]
    violated = [p for p in o.props if o.status(p) == "violated"]
    if violated:
        parts.append("<p>Counterexamples: "
                     + ", ".join(f'<a href="#cex-{_e(p.name)}">{_e(p.name)}</a>'
                                 for p in violated) + "</p>")
    parts += ["<h2>Role state machines</h2>",
              "<p class=\"note\">Each explored transition projected onto one task's UMCG state "
              "word, per role, beside the transitions the v0.2 header documents (semantics "
              "§2.3, Note 1). How to read it: docs/pictures.md.</p>",
              _picture(R.roles_dot(o)), _roles_table(o)]
    if o.result.states:
        parts += ["<h2>State graph</h2>", _picture(R.graph_dot(o), cls="graph")]
    for p in violated:
        itf = o.itf(p)
        parts.append(f'<h2 id="cex-{_e(p.name)}">Counterexample: {_e(p.name)}</h2>')
        parts.append(f"<p>{_e(p.statement)} <span class=\"note\">({_e(p.source)})</span></p>")
        if itf is not None:
            parts.append(_picture(R.trace_dot(itf, R.actors_of(o.model)), tall=True))
        parts.append(_steps_table(o, p))
        final = o.final_tasks(p) or {}
        parts.append("<p>last state: " + "; ".join(
            f"{_e(t)} at <code>{_e(r['pc'])}</code> ({_e(r['state'])}, {_e(r['__state'])})"
            for t, r in final.items()) + "</p>")
    parts += ["<h2>Coverage</h2>", _coverage(o)]
    parts.append(f'<p class="note">generated by umcg-check in {time.monotonic() - t0:.1f} s'
                 "</p></body></html>\n")
    return "".join(parts)


def write_report(outcome: Outcome, dir: str) -> str:
    """Write DIR/<config>.report.html atomically; return its path."""
    from checker.cli import UsageError

    path = os.path.join(dir, f"{outcome.config.name}.report.html")
    page = report_html(outcome)
    try:
        write_atomic(path, page.encode())
    except OSError as e:
        raise UsageError(f"--report: cannot write {path}: {e.strerror}") from None
    return path
