"""Runs a snippet in a new interpreter: what importing the project does before anything else has."""

from __future__ import annotations

import subprocess
import sys

from tests.paths import PROJECT_ROOT


def fresh_python_output(code: str, **env: str) -> str:
    """The last line `code` prints, run with this checkout's code and only the given variables."""
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin", **env},
    ).stdout
    return output.strip().splitlines()[-1]
