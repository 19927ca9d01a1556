#!/usr/bin/env bash
# Set up umcg-check in ./.venv (Debian, Python >= 3.11, run as root or a user with a venv-capable Python).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
"$PY" - <<'PYEOF' || { echo "setup.sh: Python 3.11 or newer is needed ($PY)" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYEOF
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    # Debian's python3 ships venv/ensurepip separately.
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
command -v dot >/dev/null || { apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; }
# SPIN and a C compiler for the Promela cross-check (tests/test_spin.py, benchmarks/vs_spin.py).
{ command -v spin && command -v gcc; } >/dev/null || { apt-get update -qq && apt-get install -y -qq spin gcc >/dev/null; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
