"""Configuration loading/validation and the CLI's error behaviour.

Every bad input must give exit code 2 and exactly one stderr line
"umcg-check: error: ..." that names the offending key, never a traceback.
Runs that actually explore use configs/small.toml (about 1,300 states) or a
one-worker config written here, so every test stays well under a second.

"""

from __future__ import annotations

import glob
import json
import math
import os
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli import main
from checker.config import ConfigError, load, parse
from checker.run import build_model
from model.v0_2 import OPS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(glob.glob(os.path.join(ROOT, "configs", "*.toml")))
SMALL = os.path.join(ROOT, "configs", "small.toml")

# One worker that blocks once; without the server's re-check it deadlocks
# (no_deadlock violated after ~1,000 states): a fast run that writes a trace.
VIOLATING = """\
name = "tiny"
workers = 1
[workload]
ops = [["block"]]
server_recheck = false
"""


def write(tmp_path, text: str | bytes, name: str = "cfg.toml") -> str:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return str(p)


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error_line(err: str, *needles: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    line = lines[0]
    assert line.startswith("umcg-check: error:"), line
    for n in needles:
        assert n in line, f"{n!r} not named in {line!r}"
    return line


# --------------------------------------------------------------------------- shipped configs


def test_shipped_configs_exist():
    names = {os.path.basename(p) for p in SHIPPED}
    assert "default.toml" in names and "small.toml" in names


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_config_loads(path):
    cfg = load(path)
    assert cfg.path == path
    assert cfg.version == "v0.2"
    assert cfg.name == os.path.splitext(os.path.basename(path))[0]
    assert len(cfg.params.ops) == cfg.params.workers
    # the shipped configs say what they mean: every table key is read back
    raw = cfg.raw
    assert cfg.params.servers == raw.get("servers", 1)
    assert cfg.params.workers == raw.get("workers", 2)
    assert [list(o) for o in cfg.params.ops] == raw["workload"]["ops"]
    env = raw.get("environment", {})
    assert cfg.params.signals == env.get("signals", 0)
    assert cfg.params.preemptions == env.get("preemptions", 0)


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_config_builds(path):
    model, props = build_model(load(path))
    assert props and len(model.workers) == load(path).params.workers


def test_default_config_when_none_given():
    cfg = load(None)
    assert cfg.name == "default"
    assert cfg.path.endswith(os.path.join("configs", "default.toml"))


def test_defaults_of_a_minimal_config(tmp_path):
    cfg = load(write(tmp_path, "", "minimal.toml"))
    p = cfg.params
    assert cfg.name == "minimal" and cfg.version == "v0.2" and cfg.description == ""
    assert (p.servers, p.workers) == (1, 2)
    assert p.ops == (("block",), ("block",))
    assert (p.lock_before_wait, p.server_recheck) == (False, True)
    assert (p.signals, p.preemptions) == (0, 0)
    assert cfg.max_states is None and cfg.max_seconds is None and cfg.properties is None


def test_every_key_is_read(tmp_path):
    cfg = load(write(tmp_path, """
name = "full"
description = "all keys"
version = "v0.2"
servers = 2
workers = 3
[workload]
ops = [["block", "yield", "swap", "wake"], [], ["wake"]]
lock_before_wait = true
server_recheck = false
[environment]
signals = 5
preemptions = 4
[limits]
max_states = 1000000000
max_seconds = 1
[properties]
check = ["INV-2", "no_deadlock"]
"""))
    p = cfg.params
    assert cfg.name == "full" and cfg.description == "all keys"
    assert (p.servers, p.workers) == (2, 3)
    assert p.ops == (("block", "yield", "swap", "wake"), (), ("wake",))
    assert (p.lock_before_wait, p.server_recheck) == (True, False)
    assert (p.signals, p.preemptions) == (5, 4)
    assert cfg.max_states == 10**9
    assert cfg.max_seconds == 1.0 and isinstance(cfg.max_seconds, float)
    assert cfg.properties == ("INV-2", "no_deadlock")
    _, props = build_model(cfg)
    assert [q.name for q in props] == ["INV-2", "no_deadlock"]


# --------------------------------------------------------------------------- bad configs

BASE = 'workers = 1\n[workload]\nops = [["block"]]\n'

# (id, TOML text, what the error line must contain)
BAD = [
    # unknown keys, at the top and in every table
    ("unknown-top", 'foo = 1\n', "'foo'"),
    ("unknown-workload", BASE + "foo = 1\n", "'workload.foo'"),
    ("unknown-environment", "[environment]\nfoo = 1\n", "'environment.foo'"),
    ("unknown-limits", "[limits]\nmax_state = 10\n", "'limits.max_state'"),
    ("unknown-properties", "[properties]\nchecks = []\n", "'properties.checks'"),
    # wrong types for integers
    ("servers-string", 'servers = "2"\n', "'servers'"),
    ("workers-bool", "workers = true\n", "'workers'"),
    ("servers-float", "servers = 1.0\n", "'servers'"),
    ("signals-string", '[environment]\nsignals = "1"\n', "'environment.signals'"),
    ("signals-bool", "[environment]\nsignals = true\n", "'environment.signals'"),
    ("preemptions-float", "[environment]\npreemptions = 1.5\n", "'environment.preemptions'"),
    ("max-states-string", '[limits]\nmax_states = "10"\n', "'limits.max_states'"),
    ("max-states-float", "[limits]\nmax_states = 10.0\n", "'limits.max_states'"),
    ("max-states-bool", "[limits]\nmax_states = true\n", "'limits.max_states'"),
    # out of range
    ("servers-0", "servers = 0\n", "'servers'"),
    ("servers-4", "servers = 4\n", "'servers'"),
    ("workers-0", "workers = 0\n", "'workers'"),
    ("workers-4", "workers = 4\n", "'workers'"),
    ("signals-6", "[environment]\nsignals = 6\n", "'environment.signals'"),
    ("signals-negative", "[environment]\nsignals = -1\n", "'environment.signals'"),
    ("preemptions-negative", "[environment]\npreemptions = -1\n", "'environment.preemptions'"),
    ("preemptions-6", "[environment]\npreemptions = 6\n", "'environment.preemptions'"),
    ("max-states-0", "[limits]\nmax_states = 0\n", "'limits.max_states'"),
    ("max-states-huge", "[limits]\nmax_states = 1000000001\n", "'limits.max_states'"),
    ("max-seconds-0", "[limits]\nmax_seconds = 0\n", "'limits.max_seconds'"),
    ("max-seconds-negative", "[limits]\nmax_seconds = -1.5\n", "'limits.max_seconds'"),
    ("max-seconds-string", '[limits]\nmax_seconds = "60"\n', "'limits.max_seconds'"),
    ("max-seconds-bool", "[limits]\nmax_seconds = true\n", "'limits.max_seconds'"),
    # booleans
    ("lock-before-wait-int", BASE + "lock_before_wait = 1\n", "'workload.lock_before_wait'"),
    ("server-recheck-string", BASE + 'server_recheck = "yes"\n', "'workload.server_recheck'"),
    # workload.ops
    ("ops-too-short", 'workers = 2\n[workload]\nops = [["block"]]\n', "'workload.ops'"),
    ("ops-too-long", 'workers = 1\n[workload]\nops = [["block"], ["yield"]]\n',
     "'workload.ops'"),
    ("ops-not-a-list", 'workers = 1\n[workload]\nops = "block"\n', "'workload.ops'"),
    ("ops-entry-not-a-list", 'workers = 2\n[workload]\nops = [["block"], "yield"]\n',
     "'workload.ops[1]'"),
    ("ops-entry-table", 'workers = 1\n[workload]\nops = [{op = "block"}]\n',
     "'workload.ops[0]'"),
    ("ops-unknown-op", 'workers = 2\n[workload]\nops = [["block"], ["sleep"]]\n',
     "'workload.ops[1]'"),
    ("ops-op-not-a-string", 'workers = 1\n[workload]\nops = [[1]]\n', "'workload.ops[0]'"),
    ("ops-more-than-4", 'workers = 1\n[workload]\nops = [["block", "yield", "block", '
     '"yield", "block"]]\n', "'workload.ops[0]'"),
    # version, strings, lists
    ("version-v9.9", 'version = "v9.9"\n', "'version'"),
    ("version-float", "version = 0.2\n", "'version'"),
    ("name-empty", 'name = ""\n', "'name'"),
    ("name-int", "name = 3\n", "'name'"),
    ("description-int", "description = 3\n", "'description'"),
    ("check-string", '[properties]\ncheck = "INV-2"\n', "'properties.check'"),
    ("check-ints", "[properties]\ncheck = [1, 2]\n", "'properties.check'"),
    # a table given as a scalar
    ("workload-scalar", "workload = 3\n", "'workload'"),
    ("environment-scalar", 'environment = "none"\n', "'environment'"),
    ("limits-scalar", "limits = 10\n", "'limits'"),
    ("properties-list", 'properties = ["INV-2"]\n', "'properties'"),
]


@pytest.mark.parametrize(("text", "key"), [(t, k) for _, t, k in BAD], ids=[i for i, _, _ in BAD])
def test_bad_config_load_raises(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load(path)
    msg = str(ei.value)
    assert key in msg
    assert msg.startswith(path + ": ")  # the file is named too


@pytest.mark.parametrize(("text", "key"), [(t, k) for _, t, k in BAD], ids=[i for i, _, _ in BAD])
@pytest.mark.parametrize("command", ["check", "list-actions"])
def test_bad_config_cli_exit_2(tmp_path, capsys, command, text, key):
    path = write(tmp_path, text)
    rc, out, err = run(capsys, [command, path])
    assert rc == 2
    assert out == ""
    assert_one_error_line(err, key, path)


def test_unknown_key_error_lists_allowed_keys(tmp_path, capsys):
    rc, _, err = run(capsys, ["check", write(tmp_path, "[environment]\nsignal = 1\n")])
    assert rc == 2
    assert_one_error_line(err, "unknown key 'environment.signal'", "preemptions", "signals")


def test_unknown_operation_lists_operations(tmp_path, capsys):
    path = write(tmp_path, 'workers = 1\n[workload]\nops = [["sleep"]]\n')
    rc, _, err = run(capsys, ["check", path])
    assert rc == 2
    assert_one_error_line(err, "'workload.ops[0]'", "'sleep'", *OPS)


def test_invalid_toml(tmp_path, capsys):
    path = write(tmp_path, "servers = \n[workload\n")
    rc, out, err = run(capsys, ["check", path])
    assert rc == 2 and out == ""
    assert_one_error_line(err, path, "not valid TOML")


def test_duplicate_key_is_invalid_toml(tmp_path, capsys):
    path = write(tmp_path, "servers = 1\nservers = 2\n")
    rc, _, err = run(capsys, ["check", path])
    assert rc == 2
    assert_one_error_line(err, path, "not valid TOML")


def test_missing_file(tmp_path, capsys):
    path = str(tmp_path / "nope.toml")
    rc, out, err = run(capsys, ["check", path])
    assert rc == 2 and out == ""
    assert_one_error_line(err, path, "no such file")


def test_missing_file_list_actions(tmp_path, capsys):
    path = str(tmp_path / "nope.toml")
    rc, _, err = run(capsys, ["list-actions", path])
    assert rc == 2
    assert_one_error_line(err, path, "no such file")


def test_directory_as_config(tmp_path, capsys):
    rc, out, err = run(capsys, ["check", str(tmp_path)])
    assert rc == 2 and out == ""
    assert_one_error_line(err, str(tmp_path), "directory")


def test_unknown_property_is_a_config_error(tmp_path, capsys):
    path = write(tmp_path, BASE + '[properties]\ncheck = ["INV-2", "INV-99"]\n')
    with pytest.raises(ConfigError, match="INV-99"):
        load(path)
    rc, out, err = run(capsys, ["check", path])
    assert rc == 2 and out == ""
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("umcg-check: error:")
    assert "'properties.check'" in last and "'INV-99'" in last
    assert "no_deadlock" in last  # lists the known names


def test_unknown_property_quiet_one_line(tmp_path, capsys):
    path = write(tmp_path, BASE + '[properties]\ncheck = ["INV-99"]\n')
    rc, _, err = run(capsys, ["check", path, "--quiet"])
    assert rc == 2
    assert_one_error_line(err, "'properties.check'", "'INV-99'")


def test_unknown_property_list_actions(tmp_path, capsys):
    path = write(tmp_path, BASE + '[properties]\ncheck = ["INV-99"]\n')
    rc, _, err = run(capsys, ["list-actions", path])
    assert rc == 2
    assert_one_error_line(err, "'properties.check'", "'INV-99'")


def test_unknown_property_one_line_without_quiet(tmp_path, capsys):
    path = write(tmp_path, BASE + '[properties]\ncheck = ["INV-99"]\n')
    rc, _, err = run(capsys, ["check", path])
    assert rc == 2
    assert_one_error_line(err, "'properties.check'")


def test_non_utf8_config(tmp_path, capsys):
    path = write(tmp_path, b'name = "\xff"\n')
    rc, _, err = run(capsys, ["check", path])
    assert rc == 2
    assert_one_error_line(err, path)


def test_max_seconds_nan_rejected(tmp_path):
    with pytest.raises(ConfigError, match="limits.max_seconds"):
        load(write(tmp_path, "[limits]\nmax_seconds = nan\n"))


def test_empty_config_path_is_an_error():
    with pytest.raises(ConfigError):
        load("")


# --------------------------------------------------------------------------- hypothesis

RANGES = {"servers": (1, 3), "workers": (1, 3), "environment.signals": (0, 5),
          "environment.preemptions": (0, 5)}


def _text_for(key: str, value: int) -> str:
    if key == "workers":
        # ops omitted: the default is one ["block"] per worker, whatever `workers` is
        return f"workers = {value}\n"
    if key == "servers":
        return f"servers = {value}\n"
    table, k = key.split(".")
    return f"[{table}]\n{k} = {value}\n"


def _param(cfg, key: str) -> int:
    return getattr(cfg.params, key.split(".")[-1])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(RANGES)), value=st.integers(min_value=-10**20,
                                                              max_value=10**20))
def test_integer_keys_property(tmp_path, key, value):
    lo, hi = RANGES[key]
    path = write(tmp_path, _text_for(key, value))
    if lo <= value <= hi:
        cfg = load(path)
        assert _param(cfg, key) == value
        if key == "workers":
            assert cfg.params.ops == (("block",),) * value
    else:
        with pytest.raises(ConfigError) as ei:
            load(path)
        assert f"'{key}' = {value}" in str(ei.value)


@settings(max_examples=50, deadline=None)
@given(key=st.sampled_from(sorted(RANGES)),
       value=st.one_of(st.booleans(), st.floats(allow_nan=False), st.text(max_size=5)))
def test_integer_keys_reject_non_integers(key, value):
    table, _, k = key.rpartition(".")
    raw: dict = {table: {k: value}} if table else {k: value}
    with pytest.raises(ConfigError) as ei:
        parse(raw, "h")
    assert f"'{key}'" in str(ei.value)


@st.composite
def valid_raw(draw):
    workers = draw(st.integers(1, 3))
    ops = draw(st.lists(st.lists(st.sampled_from(OPS), max_size=4),
                        min_size=workers, max_size=workers))
    return {"servers": draw(st.integers(1, 3)), "workers": workers,
            "workload": {"ops": ops, "lock_before_wait": draw(st.booleans()),
                         "server_recheck": draw(st.booleans())},
            "environment": {"signals": draw(st.integers(0, 5)),
                            "preemptions": draw(st.integers(0, 5))}}


@settings(max_examples=12, deadline=None)
@given(raw=valid_raw())
def test_every_valid_config_builds(raw):
    cfg = parse(raw, "h")
    p = cfg.params
    assert [list(o) for o in p.ops] == raw["workload"]["ops"]
    assert (p.servers, p.workers, p.signals, p.preemptions) == (
        raw["servers"], raw["workers"], raw["environment"]["signals"],
        raw["environment"]["preemptions"])
    model, props = build_model(cfg)
    assert len(model.servers) == p.servers and len(model.workers) == p.workers
    assert "no_deadlock" in {q.name for q in props}


@settings(max_examples=60, deadline=None)
@given(raw=valid_raw(), n=st.integers(1, 20), bad=st.text(min_size=1, max_size=8))
def test_ops_length_and_names_property(raw, n, bad):
    w = raw["workers"]
    wrong = dict(raw, workload={"ops": [["block"]] * n})
    if n == w:
        parse(wrong, "h")
    else:
        with pytest.raises(ConfigError, match=r"'workload\.ops'"):
            parse(wrong, "h")
    named = dict(raw, workload={"ops": [["block"]] * (w - 1) + [[bad]]})
    if bad in OPS:
        parse(named, "h")
    else:
        with pytest.raises(ConfigError, match=rf"'workload\.ops\[{w - 1}\]'"):
            parse(named, "h")


def test_parse_matches_tomllib_of_shipped():
    for path in SHIPPED:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        assert parse(raw, "x", path).params == load(path).params


# --------------------------------------------------------------------------- CLI usage


@pytest.mark.parametrize("argv", [
    ["frobnicate"],
    ["check", "--bogus"],
    ["check", SMALL, "extra"],
    ["list-actions", "--bogus"],
    ["list-actions", "--json", "--markdown"],
    ["check", SMALL, "--max-states", "abc"],
    ["check", SMALL, "--max-seconds", "soon"],
    ["check", SMALL, "--max-states"],
], ids=lambda a: " ".join(a).replace(SMALL, "small"))
def test_usage_errors(capsys, argv):
    rc, out, err = run(capsys, argv)
    assert rc == 2 and out == ""
    assert_one_error_line(err)


def test_no_command_prints_help(capsys):
    rc, out, err = run(capsys, [])
    assert rc == 2 and out == ""
    assert "usage:" in err and "Traceback" not in err


@pytest.mark.parametrize(("opt", "value", "needle"), [
    ("--max-states", "0", "--max-states"),
    ("--max-states", "-5", "--max-states"),
    ("--max-seconds", "-1", "--max-seconds"),
    ("--max-seconds", "0", "--max-seconds"),
])
def test_bad_limits_on_command_line(tmp_path, capsys, opt, value, needle):
    trace = tmp_path / "traces"
    rc, out, err = run(capsys, ["check", SMALL, opt, value, "--trace-dir", str(trace)])
    assert rc == 2 and out == ""
    assert_one_error_line(err, needle)
    assert not trace.exists()


def test_max_seconds_nan_on_command_line(capsys):
    rc, _, err = run(capsys, ["check", SMALL, "--max-seconds", "nan", "--quiet"])
    assert rc == 2
    assert_one_error_line(err, "--max-seconds")


def test_trace_dir_is_a_regular_file(tmp_path, capsys):
    f = tmp_path / "traces"
    f.write_text("keep me\n")
    rc, out, err = run(capsys, ["check", SMALL, "--trace-dir", str(f)])
    assert rc == 2 and out == ""
    assert_one_error_line(err, "--trace-dir", str(f))
    assert f.read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["traces"]


def test_no_files_left_in_trace_dir_on_errors(tmp_path, capsys):
    trace = tmp_path / "traces"
    trace.mkdir()
    bad_cfg = write(tmp_path, "servers = 9\n")
    bad_prop = write(tmp_path, VIOLATING + '[properties]\ncheck = ["nope"]\n', "prop.toml")
    viol = write(tmp_path, VIOLATING, "tiny.toml")
    for argv in (["check", bad_cfg, "--trace-dir", str(trace)],
                 ["check", bad_prop, "--trace-dir", str(trace)],
                 ["check", viol, "--max-states", "0", "--trace-dir", str(trace)],
                 ["check", viol, "--max-seconds", "-1", "--trace-dir", str(trace)],
                 ["check", str(tmp_path / "missing.toml"), "--trace-dir", str(trace)]):
        rc, _, err = run(capsys, argv)
        assert rc == 2, argv
        assert "Traceback" not in err
        assert os.listdir(trace) == [], argv


def test_trace_written_for_a_violation(tmp_path, capsys):
    trace = tmp_path / "out" / "traces"  # created on demand
    viol = write(tmp_path, VIOLATING, "tiny.toml")
    rc, out, err = run(capsys, ["check", viol, "--trace-dir", str(trace), "--json", "--quiet",
                                "--no-liveness"])
    assert rc == 1
    assert os.listdir(trace) == ["tiny.no_deadlock.itf.json"]  # no temporary files left
    doc = json.loads((trace / "tiny.no_deadlock.itf.json").read_text())
    assert doc["#meta"]["property"] == "no_deadlock"
    res = json.loads(out)
    assert res["result"] == "violation" and res["config"] == "tiny"
    assert err == ""


def test_trace_dir_below_a_regular_file(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    viol = write(tmp_path, VIOLATING, "tiny.toml")
    rc, _, err = run(capsys, ["check", viol, "--quiet", "--trace-dir", str(tmp_path / "f" / "d")])
    assert rc == 2
    assert_one_error_line(err, "--trace-dir")


def test_trace_stays_inside_trace_dir(tmp_path, capsys):
    trace = tmp_path / "traces"
    trace.mkdir()
    viol = write(tmp_path, VIOLATING.replace('"tiny"', '"../escaped"'), "esc.toml")
    rc, _, _ = run(capsys, ["check", viol, "--quiet", "--trace-dir", str(trace)])
    assert not (tmp_path / "escaped.no_deadlock.itf.json").exists()
    assert rc in (1, 2)


# --------------------------------------------------------------------------- runs and limits


def test_small_runs_ok(capsys):
    rc, out, err = run(capsys, ["check", SMALL, "--json"])
    assert rc == 0
    res = json.loads(out)
    assert res["result"] == "ok" and res["stopped_by"] is None
    assert res["config"] == "small" and res["config_path"] == SMALL
    assert err.splitlines()[0] == "umcg-check: exploring small (v0.2)..."


def test_quiet_is_quiet(capsys):
    rc, _, err = run(capsys, ["check", SMALL, "--quiet", "--json"])
    assert rc == 0 and err == ""


def test_human_report_goes_to_current_stdout(capsys):
    # regression: print_human once bound sys.stdout as a default argument at import time
    rc, out, _ = run(capsys, ["check", SMALL, "--quiet"])
    assert rc == 0
    assert "Result: OK" in out


def test_max_states_on_command_line_gives_exit_3(capsys):
    rc, out, _ = run(capsys, ["check", SMALL, "--json", "--quiet", "--max-states", "10"])
    assert rc == 3
    res = json.loads(out)
    assert res["result"] == "incomplete" and res["stopped_by"] == "max_states"
    assert all(p["status"] == "not-checked" for p in res["properties"])


def test_max_states_in_config_gives_exit_3(tmp_path, capsys):
    path = write(tmp_path, open(SMALL).read() + "\n[limits]\nmax_states = 10\n")
    rc, out, _ = run(capsys, ["check", path, "--json", "--quiet"])
    assert rc == 3
    assert json.loads(out)["stopped_by"] == "max_states"
    # the command line overrides the configuration
    rc, out, _ = run(capsys, ["check", path, "--json", "--quiet", "--max-states", "100000"])
    assert rc == 0 and json.loads(out)["result"] == "ok"


def test_properties_check_selects(tmp_path, capsys):
    path = write(tmp_path, open(SMALL).read() + '\n[properties]\ncheck = ["INV-2"]\n')
    rc, out, _ = run(capsys, ["check", path, "--json", "--quiet"])
    assert rc == 0
    assert [p["name"] for p in json.loads(out)["properties"]] == ["INV-2"]


def test_cli_lists_actions_of_small(capsys):
    rc, out, err = run(capsys, ["list-actions", SMALL, "--json"])
    assert rc == 0 and err == ""
    names = {r["name"] for r in json.loads(out)}
    assert "worker.yield.set_self_idle" in names


def test_nan_constant_sanity():
    # TOML really gives a float nan, so the nan tests above test what they say
    assert math.isnan(tomllib.loads("x = nan")["x"])
