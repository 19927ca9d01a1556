"""Golden state counts and verdicts for every shipped configuration (configs/manifest.json).

A change to a count must be explained in the commit that makes it
(regenerate with `python -m checker.manifest --update`)."""

from __future__ import annotations

import json
import os

import pytest

from checker.manifest import MANIFEST, configs, entry

with open(MANIFEST) as f:
    GOLDEN = json.load(f)

NAMES = [os.path.splitext(os.path.basename(p))[0] for p in configs()]


def test_every_config_is_in_the_manifest():
    assert sorted(GOLDEN) == sorted(NAMES)


@pytest.mark.parametrize("path", configs(), ids=NAMES)
def test_config_matches_golden(path):
    name = os.path.splitext(os.path.basename(path))[0]
    # "reduced" (state counts under reductions) is checked by tests/test_reductions.py
    assert entry(path) == {k: v for k, v in GOLDEN[name].items() if k != "reduced"}


def test_default_config_reports_what_the_docs_say():
    # README and docs quote these figures for the default configuration.
    g = GOLDEN["default"]
    assert g["result"] == "violation" and list(g["violated"]) == ["no_deadlock"]


def test_docs_explain_exactly_the_actions_that_never_fire():
    from checker.manifest import HERE, never_fired

    with open(os.path.join(HERE, "docs", "model-v0.2.md")) as f:
        text = f.read()
    block = text.split("<!-- never-fired:begin -->")[1].split("<!-- never-fired:end -->")[0]
    documented = sorted(line.split("`")[1] for line in block.splitlines()
                        if line.startswith("- `"))
    assert documented == never_fired(GOLDEN)


def test_ci_runs_the_readme_test_command():
    from checker.manifest import HERE

    with open(os.path.join(HERE, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(HERE, ".ci", "run")) as f:
        ci = f.read()
    cmd = "bash setup.sh && .venv/bin/python -m pytest -q"
    assert cmd in readme and cmd in ci
