"""Every bad target file in bad_targets/ is a usage error (exit code 4) naming file, line and key, no traceback.

Each file starts with `# expect: FRAGMENT` lines: every FRAGMENT (usually `file.yaml:LINE: key.path: what`)
appears in pytest's output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CORPUS = Path(__file__).parent / "bad_targets"
FILES = sorted(CORPUS.glob("*.yaml"))
RUNNER = Path(__file__).parent / "corpus_runner.py"


def expected_fragments(path: Path) -> list[str]:
    """The `# expect: FRAGMENT` lines at the top of a corpus file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fragments = [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]
    assert lines[0].startswith("# expect: "), f"{path.name}: start with `# expect: FRAGMENT`"
    return fragments


def clean_environment(folder: Path) -> dict[str, str]:
    """The test's environment, without a target, reports into `folder` (never the repository's reports/)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPSVERIFY_CORPUS")}
    environment.pop("OPSVERIFY_TARGET", None)
    return {**environment, "PYTHONDONTWRITEBYTECODE": "1", "OPSVERIFY_REPORTS_DIR": str(folder / "reports")}


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[object]]:
    """Exit code and output of `pytest checks --target=FILE` for every corpus file (one process, one run each)."""
    folder = tmp_path_factory.mktemp("corpus")
    completed = subprocess.run(
        [sys.executable, str(RUNNER), *map(str, FILES)],
        cwd=folder,
        env=clean_environment(folder),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: dict[str, list[object]] = json.loads(completed.stdout)
    return results


def test_corpus_is_big_enough() -> None:
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_target_is_a_usage_error(path: Path, corpus_results: dict[str, list[object]]) -> None:
    code, output = corpus_results[str(path)]
    assert isinstance(output, str)
    assert code == 4, output
    assert "Traceback" not in output, output
    assert "INTERNALERROR" not in output, output
    for fragment in expected_fragments(path):
        assert fragment in output, output
    # file:line: in every case (the env-file case names the env file's line)
    assert re.search(rf"{re.escape(path.stem)}\.(yaml|env):\d+: ", output), output


@pytest.mark.parametrize("name", ["unknown_entry_key", "missing_variable", "invalid_yaml"])
def test_bad_target_in_a_real_process(name: str, tmp_path: Path) -> None:
    """The same, as an operator runs it: a separate process, message on stderr, nothing else."""
    path = CORPUS / f"{name}.yaml"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(REPO),
            "-c",
            str(REPO / "pyproject.toml"),
            str(REPO / "checks"),
            "--target",
            str(path),
        ],
        cwd=tmp_path,
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 4, completed.stdout + completed.stderr
    assert completed.stderr.startswith("ERROR: "), completed.stderr
    assert all(fragment in completed.stderr for fragment in expected_fragments(path))
    assert "Traceback" not in completed.stdout + completed.stderr
