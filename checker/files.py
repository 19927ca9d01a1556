"""Reading JSON input files, and writing output files so that no reader, and no failed run,
sees a partial one."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


class InputFileError(Exception):
    """An input file that cannot be read (bad input: exit 2)."""


def read_json(path: str, label: str) -> Any:
    """The JSON document in `path`; `label` names the file in the error."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputFileError(f"{label}: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputFileError(f"{label}: not JSON ({e})") from None


def write_atomic(path: str, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
