"""`umcg-check list-versions`: the modelled versions, what each changes, and its source."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from model.versions import VERSIONS
from properties.versions import not_applicable

EPILOG = """examples:
  umcg-check list-versions
  umcg-check list-versions --json

The names are the values of `version` in a configuration and of `compare --versions`."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("list-versions", help="list the modelled versions and what each changes",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=cmd_list_versions)


def rows() -> list[dict[str, Any]]:
    return [{"name": v.name, "changes": v.summary, "source": v.source,
             "not_applicable": not_applicable(v.name)} for v in VERSIONS.values()]


def cmd_list_versions(args: argparse.Namespace) -> int:
    if args.json:
        json.dump(rows(), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    for r in rows():
        print(f"{r['name']:22} {r['changes']}")
        print(f"{'':22} source: {r['source']}")
    return 0
