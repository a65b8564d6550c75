"""An imported compose file's healthcheck commands run in the real containers, found by compose's labels
(the test deployment's containers are named PROJECT-SERVICE-1 but could be named anything)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import RunResult
from tests.importers.conftest import env_example, run_cli


def test_imported_healthchecks_run_in_the_labelled_containers(
    tmp_path: Path, deployment: dict[str, Any], run_checks: Callable[..., RunResult]
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        f"name: {deployment['project']}\nservices:\n"
        "  api:\n    image: app\n    healthcheck: {test: [CMD, 'true'], timeout: 5s}\n"
        "  web:\n    image: app\n    healthcheck: {test: 'echo web says 503; exit 1', timeout: 5s}\n"
    )
    output = tmp_path / "targets" / "shop.yaml"
    assert run_cli("import", "compose", str(compose), "-o", str(output)) == 0
    shutil.copyfile(env_example(output), output.parent / "shop.env")  # the printed next step
    result = run_checks(output, "-k", "healthcheck", "-rA", env={"DOCKER_HOST": deployment["engine"]})
    assert result.returncode == 1, result.output
    assert "PASSED" in _line(result.output, "command:api-healthcheck")
    failed = _line(result.output, "command:web-healthcheck")
    assert "FAILED" in failed, result.output
    assert "exit code: expected 0, got 1" in failed + result.output, result.output
    assert "web says 503" in result.output, result.output


def _line(output: str, check: str) -> str:
    return next(
        (line for line in output.splitlines() if check in line and ("PASSED" in line or "FAILED" in line)), ""
    )
