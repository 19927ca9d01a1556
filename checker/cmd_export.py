"""`umcg-check export`: a configuration's model in another tool's language (Promela, SPIN)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from checker.files import write_atomic

EPILOG = """examples:
  umcg-check export configs/small.toml --promela small.pml
  umcg-check export configs/baseline.toml --promela - | less

then, by hand (docs/spin.md):
  spin -a small.pml && gcc -O2 -DNOREDUCE -DMEMLIM=8192 -o pan pan.c && ./pan -m1000000 -c0

exit codes: 0 written; 2 bad input or usage"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="write a configuration's model as Promela for SPIN",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", help="TOML configuration (default: configs/default.toml)")
    p.add_argument("--promela", required=True, metavar="FILE",
                   help="write the Promela model to FILE ('-' for stdout)")
    p.set_defaults(func=cmd_export)


def promela_of(cfg: Any) -> Any:
    """The configuration's model, with the properties the configuration checks, as Promela."""
    from checker.promela import to_promela
    from checker.run import build_model

    model, props = build_model(cfg)
    title = f"configuration {cfg.name} ({cfg.version}"
    title += f", {cfg.path})" if cfg.path else ")"
    return to_promela(model.spec, props, model.finished, title=title)


def cmd_export(args: argparse.Namespace) -> int:
    from checker.cli import UsageError
    from checker.config import load

    cfg = load(args.config)
    out = args.promela
    if out != "-":
        if not out:
            raise UsageError("--promela: empty path")
        if os.path.isdir(out):
            raise UsageError(f"--promela {out}: is a directory")
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"--promela {out}: {parent} is not a writable directory")
    pml = promela_of(cfg)
    if out == "-":
        sys.stdout.write(pml.text)
        return 0
    try:
        write_atomic(out, pml.text.encode())
    except OSError as e:
        raise UsageError(f"--promela {out}: {e.strerror}") from None
    print(f"umcg-check: wrote {out} ({len(pml.processes)} processes: "
          f"{', '.join(pml.processes)})", file=sys.stderr)
    return 0
