"""The modelled versions side by side: list-versions, compare, and the answers of
docs/design-questions.md (a model change that flips an answer fails here)."""

from __future__ import annotations

import json

import pytest

from checker.cli import main
from checker.compare import cell_text, differing_outcomes, run_version, status_cell
from checker.config import load
from checker.explore import Limits
from model.versions import VERSIONS

ALL = ("v0.2", "v0.2-futex-wait-wake", "v0.2-idle-futex", "v0.3")


def _runs(config: str, versions: tuple[str, ...]) -> dict:
    cfg = load(f"configs/{config}.toml")
    return {v: run_version(cfg, v, Limits(), False, liveness=False) for v in versions}


def _cells(runs: dict, name: str) -> dict[str, str]:
    return {v: cell_text(status_cell(r, name)) for v, r in runs.items()}


SAFETY = ("no_contract_breach", "no_unexpected_error", "INV-2", "INV-3", "INV-4", "INV-9",
          "INV-11", "list_integrity", "no_deadlock")


def test_list_versions_names_every_model_with_its_source(capsys: pytest.CaptureFixture) -> None:
    assert main(["list-versions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert tuple(r["name"] for r in rows) == ALL == tuple(VERSIONS)
    assert all(r["source"] and r["changes"] for r in rows)
    idle = next(r for r in rows if r["name"] == "v0.2-idle-futex")
    assert "INV-12" in idle["not_applicable"]


def test_compare_usage_errors_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main(["compare", "configs/small.toml", "--versions", "v0.2,v9"]) == 2
    assert "unknown version 'v9'" in capsys.readouterr().err
    assert main(["compare", "configs/small.toml", "--versions", "v0.2,v0.2"]) == 2
    assert main(["compare", "configs/small.toml", "--max-seconds", "0"]) == 2


def test_compare_small_matrix_and_witnessed_outcomes(capsys: pytest.CaptureFixture) -> None:
    code = main(["compare", "configs/small.toml", "--json", "--quiet", "--no-liveness"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # v0.3 violates properties on small
    assert [v["name"] for v in doc["versions"]] == list(ALL)
    assert all(v["complete"] for v in doc["versions"])
    m = doc["matrix"]
    assert m["INV-12"]["v0.2-idle-futex"]["status"] == "not applicable"
    assert m["no_contract_breach"]["v0.3"] == {"status": "violated", "length": 55}
    for v in ALL[:3]:
        assert all(m[p][v]["status"] == "holds" for p in SAFETY)
    diffs = doc["differing_outcomes"]
    die = [d for d in diffs if d["outcome"] == ["halted", "W0 killed by umcg_die() (SIGSEGV)"]]
    assert die and die[0]["reached_by"] == ["v0.3"]
    # the witness is the shortest path to that outcome and ends in the die step
    assert die[0]["witness"]["v0.3"][-1]["action"] == "wq_worker_change_state.running." \
        "cmpxchg_failed_die"


def test_q1_futex_wait_wake_replaces_wake_only() -> None:
    """Q1: with FUTEX_WAIT/FUTEX_WAKE for WAIT/WAKE (SWAP kept), the wake-swap workload keeps
    every safety property; v0.2's WAKE_ONLY wake breaks INV-2 (RUNNING without a server)."""
    runs = _runs("wake-swap", ("v0.2", "v0.2-futex-wait-wake"))
    assert _cells(runs, "INV-2") == {"v0.2": "VIOLATED (99)", "v0.2-futex-wait-wake": "holds"}
    futex = runs["v0.2-futex-wait-wake"]
    assert all(cell_text(status_cell(futex, p)) == "holds" for p in SAFETY)
    cov = futex.outcome.coverage()
    assert cov["futex_wake.wake_up_q"] > 0 and cov["futex_wait.queue"] > 0
    # Q4 on the same run: a worker swaps directly to another worker (no server in between)
    assert cov["worker.swap.set_target_running"] > 0


def test_q2_idle_futex_replaces_the_idle_server_list() -> None:
    """Q2: with two servers, the idle_futex_ptr counter loses no wake-up (no_deadlock holds)
    where v0.2's list + hand-off deadlocks; INV-12 does not apply (no list)."""
    runs = _runs("two-servers", ("v0.2", "v0.2-idle-futex"))
    assert _cells(runs, "no_deadlock") == {"v0.2": "VIOLATED (104)", "v0.2-idle-futex": "holds"}
    assert _cells(runs, "INV-12")["v0.2-idle-futex"] == "n/a"
    assert runs["v0.2-idle-futex"].outcome.coverage()["futex_wake.wake_up_q"] > 0


def test_q3_ordering_removes_the_spin_but_not_stale_wakeups() -> None:
    """Q3: on one CPU v0.2 spins in umcg_do_wake_loop (no_deadlock: spin); v0.3's ordered
    single ttwu never spins, but a ttwu that lands late reaches the wake hook: umcg_die."""
    runs = _runs("one-cpu", ("v0.2", "v0.3"))
    assert _cells(runs, "no_deadlock") == {"v0.2": "VIOLATED (37)", "v0.3": "holds"}
    assert runs["v0.2"].outcome.deadlock_kind() == "spin"
    assert _cells(runs, "no_contract_breach") == {"v0.2": "holds", "v0.3": "VIOLATED (68)"}
    outcomes = differing_outcomes(list(runs.values()))
    assert any(d["reached_by"] == ["v0.2"] and d["outcome"][0] == "stuck" for d in outcomes)


def test_version_names_are_usable_in_configs(tmp_path, capsys: pytest.CaptureFixture) -> None:
    for v in ALL:
        path = tmp_path / f"c{ALL.index(v)}.toml"
        path.write_text(f'version = "{v}"\nservers = 1\nworkers = 1\n'
                        '[workload]\nops = [["block", "yield"]]\n')
        code = main(["check", str(path), "--json", "--quiet", "--no-liveness"])
        doc = json.loads(capsys.readouterr().out)
        assert doc["version"] == v
        assert code == (1 if v == "v0.3" else 0)
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "v0.4"\n')
    assert main(["check", str(bad)]) == 2
    assert "must be one of v0.2, v0.2-futex-wait-wake, v0.2-idle-futex, v0.3" in \
        capsys.readouterr().err
