"""Pictures (checker/render.py), `umcg-check render` and the HTML report: every shipped
configuration (large.toml excepted: 8M states) and every counterexample found on it renders
to valid SVG with its marked elements."""

from __future__ import annotations

import glob
import inspect
import json
import os
import xml.etree.ElementTree as ET

import pytest

from checker import render as R
from checker.cli import main
from checker.config import load
from checker.report import report_html, write_report
from checker.run import check

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(HERE, "configs", "*.toml")))
CONFIGS = [c for c in CONFIGS if c != "large"]
# The liveness pass costs a second traversal of the graph; on the three largest configs it
# would double this file's time, so they are checked for safety only here.  Lassos (ITF
# `loop`) still come from the liveness checker on two-servers, preempt-locked and wake-swap,
# and test_trace_lasso_marked draws a synthetic one.
NO_LIVENESS = {"signal", "baseline", "default"}
SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.skipif(R.dot_binary() is None, reason="Graphviz dot not installed")

_OUTCOMES: dict[str, object] = {}


def cfg_path(name: str) -> str:
    return os.path.join(HERE, "configs", f"{name}.toml")


def outcome(name: str):
    if name not in _OUTCOMES:
        kw = {}
        if "liveness" in inspect.signature(check).parameters:
            kw["liveness"] = name not in NO_LIVENESS
        _OUTCOMES[name] = check(load(cfg_path(name)), **kw)
    return _OUTCOMES[name]


def violated(o):
    return [p for p in o.props if o.status(p) == "violated"]


def svg_of(source: str) -> ET.Element:
    return ET.fromstring(R.run_dot(source, "svg"))


def classes(root: ET.Element) -> list[set[str]]:
    return [set(g.get("class", "").split()) for g in root.iter(f"{SVG}g")]


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in g.get("class", "").split()]


def ids(root: ET.Element) -> set[str]:
    return {g.get("id", "") for g in root.iter(f"{SVG}g")}


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("name", CONFIGS)
def test_roles_render(name):
    o = outcome(name)
    root = svg_of(R.roles_dot(o))
    assert root.tag == f"{SVG}svg"
    rl = R.roles(o)
    # Every observed transition kind is drawn with its class.
    for kind, cls in (("undocumented", "undocumented"), ("missing", "missing"),
                      ("documented", "documented")):
        if rl.of("worker", kind) or rl.of("server", kind):
            assert with_class(root, cls), (name, cls)
    # v0.2's wake detection rewrites IDLE workers IDLE (registration alone does it).
    idle_idle = [e for e in rl.of("worker", "undocumented")
                 if (e.src, e.dst) == ("IDLE", "IDLE")]
    assert idle_idle and all("[K]" in a for e in idle_idle for a in e.actions)
    assert with_class(root, "undocumented")
    # Note 1's forbidden transitions never occur in any shipped configuration.
    assert not rl.of("worker", "forbidden") and not rl.of("server", "forbidden")


def test_roles_show_v0_2_undocumented_transitions():
    # The undocumented transitions semantics §2.8/§2.9 (obs.) predicts, each in the config
    # whose workload exercises it.
    def kinds(name, role):
        return {(e.src, e.dst, e.kind) for e in R.roles(outcome(name)).of(role)}

    assert ("IDLE", "IDLE", "undocumented") in kinds("default", "worker")
    assert ("RUNNING (no server)", "IDLE", "undocumented") in kinds("wake-swap", "worker")
    locked = kinds("preempt-locked", "worker")
    assert {("RUNNING", "IDLE|LOCKED", "flag"), ("IDLE|LOCKED", "IDLE", "flag"),
            ("IDLE|LOCKED", "RUNNING", "flag")} <= locked
    # With LOCKED set before every wait, the documented plain RUNNING→IDLE never happens.
    assert ("RUNNING", "IDLE", "missing") in locked
    assert ("RUNNING", "RUNNING", "undocumented") in kinds("signal", "worker")
    assert ("RUNNING", "RUNNING", "undocumented") in kinds("signal", "server")
    # The documented ones are there too.
    d = kinds("default", "worker")
    for src, dst in (("RUNNING", "IDLE"), ("IDLE", "RUNNING"), ("RUNNING", "BLOCKED"),
                     ("BLOCKED", "IDLE")):
        assert (src, dst, "documented") in d


def test_classify_note_1_and_note_2():
    assert R.classify("worker", "IDLE", "BLOCKED", "K", "x")[0] == "forbidden"
    assert R.classify("worker", "BLOCKED", "RUNNING", "U", "x")[0] == "forbidden"
    assert R.classify("server", "RUNNING", "BLOCKED", "K", "x")[0] == "undocumented"
    assert R.classify("server", "IDLE", "RUNNING", "K", "x")[0] == "documented"
    assert R.classify("worker", "IDLE", "RUNNING", "K", "x")[0] == "undocumented"
    assert R.classify("worker", "RUNNING", "IDLE", "K", "x")[0] == "undocumented"


# --------------------------------------------------------------------------- graph


@pytest.mark.parametrize("name", CONFIGS)
def test_graph_renders_and_highlights_every_counterexample(name):
    o = outcome(name)
    root = svg_of(R.graph_dot(o))
    assert len(with_class(root, "initial")) == 1
    if o.result.violations and set(o.result.violations) - {"no_deadlock"}:
        assert with_class(root, "violating")
    if "no_deadlock" in o.result.violations:
        assert with_class(root, "deadlock")
    for p in violated(o):
        path = [s for _, s in o.path(p)]
        root = svg_of(R.graph_dot(o, path=path, path_label=p.name))
        edges = with_class(root, "path")
        assert edges, (name, p.name)
        assert all(e.get("id", "").startswith(("path-edge-", "path-internal-")) for e in edges)
        assert with_class(root, "on-path") and len(with_class(root, "path-end")) == 1


def test_graph_full_detail_below_cap():
    o = outcome("small")
    n = o.result.states
    p = o.explorer.path(n - 1)
    root = svg_of(R.graph_dot(o, cap=n, path=[s for _, s in p], path_label="a path"))
    assert len(with_class(root, "state")) == n
    assert len(with_class(root, "path")) == len(p) - 1
    assert "state-0" in ids(root) and with_class(root, "finished")


def test_graph_abstractions():
    o = outcome("wake-swap")
    root = svg_of(R.graph_dot(o, abstraction="task:W0"))
    assert with_class(root, "initial") and with_class(root, "violating")
    root = svg_of(R.graph_dot(o, abstraction="vars:W0.state,IWH"))
    assert with_class(root, "initial")
    for bad in ("task:W9", "vars:nope", "vars:", "pcs"):
        with pytest.raises(Exception, match="abstraction"):
            R.graph_dot(o, abstraction=bad)


# --------------------------------------------------------------------------- trace


def check_trace_svg(root: ET.Element, doc: dict) -> set[str]:
    n = len(doc["states"]) - 1
    steps = with_class(root, "step")
    assert len(steps) == n
    assert "violation-step" in ids(root)
    assert len(with_class(root, "violation")) == 1
    assert with_class(root, "kernel")
    lanes = {g.get("id") for g in with_class(root, "lane-head")}
    assert "lane-mem" in lanes and "lane-S0" in lanes
    loop = doc.get("loop")
    if loop is not None:
        assert "lasso-back" in ids(root)
        assert len(with_class(root, "cycle")) == n - loop
    return set().union(*(set(g.get("class", "").split()) for g in steps))


@pytest.mark.parametrize("name", CONFIGS)
def test_trace_renders_every_counterexample(name):
    o = outcome(name)
    actors: set[str] = set()
    for p in violated(o):
        doc = o.itf(p)
        root = svg_of(R.trace_dot(doc, R.actors_of(o.model)))
        actors |= check_trace_svg(root, doc)
        # The ITF trace maps back onto the explored states (the highlighted path).
        path = R.itf_path(o.model, doc)
        assert path[0] == o.explorer.states[0]
    if violated(o):
        assert {"kernel", "user"} <= actors


def test_trace_lasso_marked():
    o = outcome("preempt-locked")
    doc = json.loads(json.dumps(o.itf(violated(o)[0])))
    doc["loop"] = 5
    root = svg_of(R.trace_dot(doc, R.actors_of(o.model)))
    check_trace_svg(root, doc)
    assert with_class(root, "lasso")


def test_trace_env_steps_told_apart():
    o = outcome("default")
    p = next(p for p in violated(o) if p.name == "no_deadlock")
    root = svg_of(R.trace_dot(o.itf(p), R.actors_of(o.model)))
    assert with_class(root, "env")  # the preemption


# --------------------------------------------------------------------------- CLI


def run(*args: str) -> int:
    return main(["render", *args, "--quiet"])


def test_cli_renders_each_kind(tmp_path):
    cfg = cfg_path("preempt-locked")
    for what, ext in (("roles", "svg"), ("graph", "png"), ("trace", "dot")):
        out = tmp_path / f"x.{ext}"
        assert run(cfg, "--what", what, "--out", str(out)) == 0
        data = out.read_bytes()
        if ext == "svg":
            ET.fromstring(data)
        elif ext == "png":
            assert data.startswith(b"\x89PNG")
        else:
            assert data.startswith(b"digraph")
    itf = tmp_path / "t.itf.json"
    o = outcome("preempt-locked")
    itf.write_text(json.dumps(o.itf(violated(o)[0])))
    out = tmp_path / "t.svg"
    assert run(cfg, "--what", "trace", "--trace", str(itf), "--out", str(out)) == 0
    assert "violation-step" in ids(ET.fromstring(out.read_bytes()))
    out = tmp_path / "g.svg"
    assert run(cfg, "--what", "graph", "--trace", str(itf), "--out", str(out)) == 0
    assert with_class(ET.fromstring(out.read_bytes()), "path")


def test_cli_bad_input_exit_2(tmp_path, capsys):
    small, other = cfg_path("small"), cfg_path("preempt-locked")
    out = str(tmp_path / "o.svg")
    notjson = tmp_path / "bad.json"
    notjson.write_text("{not json")
    o = outcome("preempt-locked")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(o.itf(violated(o)[0])))
    cases = [
        [small, "--out", out],                                     # --what missing
        [small, "--what", "pie", "--out", out],
        [small, "--what", "roles", "--out", out, "--format", "gif"],
        [small, "--what", "graph", "--out", out, "--cap", "0"],
        [small, "--what", "graph", "--out", out, "--abstraction", "task:W7"],
        [small, "--what", "trace", "--out", out],                  # no violation in small
        [small, "--what", "trace", "--out", out, "--property", "nope"],
        [small, "--what", "trace", "--out", out, "--property", "INV-2"],  # holds
        [small, "--what", "trace", "--out", out, "--trace", str(tmp_path / "none.json")],
        [small, "--what", "trace", "--out", out, "--trace", str(notjson)],
        [small, "--what", "trace", "--out", out, "--trace", str(foreign)],  # other model
        [small, "--what", "roles", "--out", str(tmp_path)],        # a directory
        [small, "--what", "roles", "--out", out, "--property", "INV-2"],
        [os.path.join(HERE, "configs", "missing.toml"), "--what", "roles", "--out", out],
        [other, "--what", "trace", "--out", out, "--trace", str(notjson), "--property",
         "INV-2"],
    ]
    for args in cases:
        assert run(*args) == 2, args
        err = capsys.readouterr().err
        assert "error" in err and "Traceback" not in err, args
    assert not os.path.exists(out)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


# --------------------------------------------------------------------------- report


def test_report_self_contained(tmp_path):
    o = outcome("wake-swap")
    path = write_report(o, str(tmp_path / "rep"))
    assert os.path.basename(path) == "wake-swap.report.html"
    page = open(path).read()
    assert page.startswith("<!DOCTYPE html>")
    for bad in ("<script", "<link", "src=\"http", "href=\"http", "@import"):
        assert bad not in page
    assert page.count("<svg") >= 2 + len(violated(o))
    for p in violated(o):
        assert f'id="cex-{p.name}"' in page
    assert 'class="steps"' in page and "Coverage" in page and "undocumented" in page
    assert not [f for f in os.listdir(tmp_path / "rep") if f.startswith(".tmp-")]


def test_report_without_violation():
    page = report_html(outcome("small"))
    assert "verdict ok" in page and "Counterexample:" not in page


def test_check_report_option(tmp_path, capsys):
    d = tmp_path / "r"
    code = main(["check", cfg_path("small"), "--report", str(d), "--quiet"])
    assert code == 0
    assert (d / "small.report.html").exists()
