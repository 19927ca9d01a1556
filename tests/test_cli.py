"""The CLI: JSON output schema, exit codes, ITF traces, list-actions, generated docs."""

from __future__ import annotations

import json
import os

import itf_py
import pytest

from checker.cli import action_rows, main, markdown_actions
from model.versions import VERSIONS

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.path.join(HERE, "configs", "small.toml")
SIGNAL = os.path.join(HERE, "configs", "signal.toml")
DEFAULT = os.path.join(HERE, "configs", "default.toml")


def run_json(capsys, *args):
    code = main(["check", *args, "--json", "--quiet"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def check_schema(doc):
    assert set(doc) >= {"version", "config", "result", "stats", "properties", "coverage"}
    assert doc["result"] in ("ok", "violation", "incomplete")
    assert set(doc["stats"]) >= {"states", "transitions", "depth", "seconds"}
    assert all(isinstance(doc["stats"][k], int) for k in ("states", "transitions", "depth"))
    for p in doc["properties"]:
        assert set(p) >= {"name", "kind", "status", "trace"}
        assert p["status"] in ("holds", "violated", "not-checked")
        assert p["kind"] in ("invariant", "deadlock", "liveness")
        if p["kind"] == "liveness" and p["status"] == "violated":
            lasso = p["lasso"]
            assert lasso["classification"] in ("deadlock", "livelock", "starvation")
            assert len(p["trace"]) == lasso["prefix_length"] + lasso["cycle_length"]
        if p["status"] == "violated":
            assert p["trace"] and [s["step"] for s in p["trace"]] == list(
                range(1, len(p["trace"]) + 1))
            for s in p["trace"]:
                assert set(s) >= {"step", "task", "action", "citation", "changed"}
        else:
            assert p["trace"] is None
    assert all(isinstance(v, int) for v in doc["coverage"].values())


def test_ok_config_exit_0_and_schema(capsys):
    code, doc = run_json(capsys, SMALL)
    assert code == 0
    check_schema(doc)
    assert doc["result"] == "ok" and doc["version"] == "v0.2" and doc["config"] == "small"
    assert all(p["status"] == "holds" for p in doc["properties"])
    with open(os.path.join(HERE, "configs", "manifest.json")) as f:
        assert doc["stats"]["states"] == json.load(f)["small"]["states"]


def test_violation_exit_1_traces_and_itf(capsys, tmp_path):
    code, doc = run_json(capsys, SIGNAL, "--trace-dir", str(tmp_path / "traces"))
    assert code == 1
    check_schema(doc)
    violated = {p["name"]: p for p in doc["properties"] if p["status"] == "violated"}
    assert "INV-11" in violated
    files = sorted(os.listdir(tmp_path / "traces"))
    assert files == sorted(f"signal.{n}.itf.json" for n in violated)
    for name, p in violated.items():
        with open(tmp_path / "traces" / f"signal.{name}.itf.json") as f:
            raw = json.load(f)
        trace = itf_py.trace_from_json(raw)
        if "lasso" in p and p["lasso"]["cycle_length"]:
            # a lasso: the last state loops back to states[loop], so it is not repeated
            assert trace.loop == p["lasso"]["loop_step"]
            assert len(trace.states) == len(p["trace"])
            continue
        assert len(trace.states) == len(p["trace"]) + 1  # plus the initial state
        assert trace.states[0].values["action_taken"] == "init"
        assert [s.values["action_taken"] for s in trace.states[1:]] == [
            s["action"] for s in p["trace"]]
        assert trace.meta["property"] == name
        assert "W0.state" in trace.vars


def test_limit_gives_incomplete_exit_3(capsys):
    code, doc = run_json(capsys, DEFAULT, "--max-states", "1000")
    assert code == 3
    assert doc["result"] == "incomplete" and doc["stopped_by"] == "max_states"
    assert all(p["status"] == "not-checked" for p in doc["properties"])


def test_human_output_has_verdicts_stats_coverage_and_step_table(capsys):
    code = main(["check", SIGNAL, "--quiet", "--no-liveness"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Result: VIOLATION" in out and "distinct states" in out
    assert "Coverage:" in out and "never fired:" in out
    assert "Counterexample for INV-11" in out
    assert "W0.state: IDLE -> IDLE" not in out  # only variables that changed are listed


def test_progress_goes_to_stderr_not_stdout(capsys):
    main(["check", SMALL, "--json"])
    cap = capsys.readouterr()
    json.loads(cap.out)  # stdout is exactly one JSON document
    assert "exploring small" in cap.err


def test_list_actions_every_action_cites_its_source(capsys):
    assert main(["list-actions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) > 80
    for r in rows:
        assert r["version"] == "v0.2" and r["file"] and r["function"] and all(r["steps"])
        assert r["actor"] in ("K", "U", "E")
    names = {r["name"] for r in rows}
    for fn in ("sys_umcg_ctl.register_worker", "sys_umcg_wait.swap_next_tid",
               "umcg_do_wake.ttwu_ok", "umcg_do_wake_loop.ttwu_failed_spin",
               "wake_server.cmpxchg_idle_running", "atomic_stack_push_user.cmpxchg_ok",
               "atomic_stack_pop_user.lock_cmpxchg_ok", "umcg_idle_loop.signal_pending_eintr",
               "env.io_complete", "env.preempt"):
        assert fn in names


@pytest.mark.parametrize("version", VERSIONS)
def test_generated_action_table_is_up_to_date(version):
    flag = "" if version == "v0.2" else f" --version {version}"
    with open(os.path.join(HERE, "docs", f"actions-{version}.md")) as f:
        assert f.read().strip() == markdown_actions(action_rows(None, version), version).strip(), (
            f"regenerate: umcg-check list-actions{flag} --markdown > docs/actions-{version}.md")


def test_list_actions_unknown_version_exits_2(capsys):
    assert main(["list-actions", "--version", "v9"]) == 2
    assert "--version 'v9'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["check", "--bogus"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err
