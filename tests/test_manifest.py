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
    assert entry(path) == GOLDEN[name]


def test_default_config_reports_what_the_docs_say():
    # README and docs quote these figures for the default configuration.
    g = GOLDEN["default"]
    assert g["result"] == "violation" and list(g["violated"]) == ["no_deadlock"]
