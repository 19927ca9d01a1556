"""Configuration files (TOML): load, validate, and name the key when something is wrong."""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from checker import reductions
from model.v0_2 import OPS, Params
from model.versions import VERSIONS as _MODELS
from properties.v0_2 import PROPERTY_NAMES as SAFETY_NAMES
from properties.v0_2_liveness import LIVENESS_NAMES

PROPERTY_NAMES = SAFETY_NAMES + LIVENESS_NAMES

VERSIONS = tuple(_MODELS)
ENGINES = ("python", "native")
DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "configs", "default.toml")


class ConfigError(Exception):
    """A configuration problem; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class Config:
    name: str
    path: str | None
    version: str
    params: Params
    max_states: int | None = None
    max_seconds: float | None = None
    properties: tuple[str, ...] | None = None  # None: all
    description: str = ""
    liveness: bool = True
    fair_tasks: bool = True
    fair_io: bool = True
    reduce: frozenset[str] = frozenset()  # checker/reductions.py; docs/reductions.md
    engine: str = "python"  # or "native" (checker/native.py; docs/native.md)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


_TOP = {"name", "description", "version", "servers", "workers", "workload", "environment",
        "limits", "properties", "fairness", "check"}
_WORKLOAD = {"ops", "lock_before_wait", "server_recheck"}
_ENV = {"signals", "preemptions", "cpus"}
_LIMITS = {"max_states", "max_seconds"}
_PROPS = {"check", "liveness"}
_FAIR = {"tasks", "io"}


def _unknown(table: dict[str, Any], allowed: set[str], prefix: str) -> None:
    for k in table:
        if k not in allowed:
            raise ConfigError(f"unknown key '{prefix}{k}' (allowed: {', '.join(sorted(allowed))})")


def _int(table: dict[str, Any], key: str, prefix: str, lo: int, hi: int, default: int) -> int:
    if key not in table:
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ConfigError(f"'{prefix}{key}' = {v!r}: must be an integer in {lo}..{hi}")
    return v


def _bool(table: dict[str, Any], key: str, prefix: str, default: bool) -> bool:
    if key not in table:
        return default
    v = table[key]
    if not isinstance(v, bool):
        raise ConfigError(f"'{prefix}{key}' = {v!r}: must be true or false")
    return v


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    v = raw.get(key, {})
    if not isinstance(v, dict):
        raise ConfigError(f"'{key}' must be a table ([{key}])")
    return v


def parse(raw: dict[str, Any], name: str, path: str | None = None) -> Config:
    _unknown(raw, _TOP, "")
    version = raw.get("version", "v0.2")
    if version not in VERSIONS:
        raise ConfigError(f"'version' = {version!r}: must be one of {', '.join(VERSIONS)}")
    servers = _int(raw, "servers", "", 1, 3, 1)
    workers = _int(raw, "workers", "", 1, 3, 2)
    wl = _table(raw, "workload")
    _unknown(wl, _WORKLOAD, "workload.")
    ops_raw = wl.get("ops", [["block"]] * workers)
    if not isinstance(ops_raw, list) or len(ops_raw) != workers:
        raise ConfigError(f"'workload.ops' = {ops_raw!r}: must be a list of {workers} lists "
                          f"(one per worker) of operations from {', '.join(OPS)}")
    ops: list[tuple[str, ...]] = []
    for i, seq in enumerate(ops_raw):
        if not isinstance(seq, list) or len(seq) > 4:
            raise ConfigError(f"'workload.ops[{i}]' = {seq!r}: must be a list of at most 4 "
                              f"operations from {', '.join(OPS)}")
        for op in seq:
            if op not in OPS:
                raise ConfigError(f"'workload.ops[{i}]' has {op!r}: operations are "
                                  f"{', '.join(OPS)}")
        ops.append(tuple(seq))
    env = _table(raw, "environment")
    _unknown(env, _ENV, "environment.")
    lim = _table(raw, "limits")
    _unknown(lim, _LIMITS, "limits.")
    max_states = _int(lim, "max_states", "limits.", 1, 10**9, 0) or None
    max_seconds: float | None = None
    if "max_seconds" in lim:
        v = lim["max_seconds"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ConfigError(f"'limits.max_seconds' = {v!r}: must be a positive number")
        max_seconds = float(v)
    pr = _table(raw, "properties")
    _unknown(pr, _PROPS, "properties.")
    check = pr.get("check")
    if check is not None:
        if (not isinstance(check, list) or not check
                or not all(isinstance(c, str) for c in check)):
            raise ConfigError(f"'properties.check' = {check!r}: must be a non-empty list of "
                              f"property names ({', '.join(PROPERTY_NAMES)})")
        for c in check:
            if c not in PROPERTY_NAMES:
                raise ConfigError(f"'properties.check' names {c!r}: known properties are "
                                  f"{', '.join(PROPERTY_NAMES)}")
    chk = _table(raw, "check")
    _unknown(chk, {"reduce", "engine"}, "check.")
    engine = chk.get("engine", "python")
    if engine not in ENGINES:
        raise ConfigError(f"'check.engine' = {engine!r}: must be one of {', '.join(ENGINES)}")
    try:
        reduce = reductions.parse(chk.get("reduce", "none"), "'check.reduce'")
    except reductions.ReductionError as e:
        raise ConfigError(str(e)) from None
    fair = _table(raw, "fairness")
    _unknown(fair, _FAIR, "fairness.")
    desc = raw.get("description", "")
    if not isinstance(desc, str):
        raise ConfigError("'description' must be a string")
    cname = raw.get("name", name)
    if not isinstance(cname, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", cname):
        raise ConfigError(f"'name' = {cname!r}: must be letters, digits, '.', '_' or '-' "
                          "(it names trace files)")
    params = Params(
        servers=servers, workers=workers, ops=tuple(ops),
        lock_before_wait=_bool(wl, "lock_before_wait", "workload.", False),
        server_recheck=_bool(wl, "server_recheck", "workload.", True),
        signals=_int(env, "signals", "environment.", 0, 5, 0),
        preemptions=_int(env, "preemptions", "environment.", 0, 5, 0),
        cpus=_int(env, "cpus", "environment.", 0, 3, 0),
    )
    return Config(cname, path, version, params, max_states, max_seconds,
                  tuple(check) if check is not None else None, desc,
                  _bool(pr, "liveness", "properties.", True),
                  _bool(fair, "tasks", "fairness.", True), _bool(fair, "io", "fairness.", True),
                  reduce, engine, raw)


def load(path: str | None) -> Config:
    if path is None:
        path = DEFAULT_CONFIG
    elif not path:
        raise ConfigError("empty configuration path")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8 text: {e.reason} at byte {e.start}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    name = os.path.splitext(os.path.basename(path))[0]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        name = "config"
    try:
        return parse(raw, name, path)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
