"""What a property is: a name, a kind, a one-line statement and a source."""

from __future__ import annotations

from dataclasses import dataclass

from model.lang import Expr

INVARIANT = "invariant"
DEADLOCK = "deadlock"
LIVENESS = "liveness"


@dataclass(frozen=True)
class Property:
    name: str
    kind: str  # "invariant" | "deadlock" | "liveness" (then checked by checker/liveness.py)
    statement: str
    source: str
    expr: Expr | None = None  # for invariants: must hold in every reachable state
    # A premise whose truth somewhere makes the invariant non-vacuous (reported when never true).
    premise: Expr | None = None
