"""Runs `pytest checks --target=FILE` for many target files in one process (one fresh pytest each).

Used by test_bad_targets.py: a subprocess per file would cost a second of start-up each. Prints a JSON
object {file: [exit code, output]} on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_one(target: str) -> tuple[int, str]:
    args = ["-p", "no:cacheprovider", "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml")]
    # Repeated runs in one process import the plugin once: pytest then warns it cannot rewrite it again.
    args += ["-W", "ignore::pytest.PytestAssertRewriteWarning", str(REPO / "checks"), f"--target={target}"]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            code = int(pytest.main(args))
        except BaseException:  # anything escaping pytest.main is what the test looks for
            output.write(traceback.format_exc())
            code = -1
    return code, output.getvalue()


if __name__ == "__main__":
    results = {target: run_one(target) for target in sys.argv[1:]}
    sys.stdout.write(json.dumps(results))
