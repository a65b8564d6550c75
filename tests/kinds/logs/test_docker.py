"""`logs` with `source: docker` against a real Docker Engine: a container's stdout and stderr, by name or
by compose service, text and JSON lines, the window, a missing container."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.logs.model import LogsCheck
from opsverify.kinds.logs.probe import probe
from opsverify.kinds.logs.verdict import judge


def run(deployment: dict[str, Any], **keys: Any) -> tuple[Any, list[str]]:
    entry = LogsCheck.model_validate({"source": "docker", "docker_host": deployment["engine"], **keys})
    facts = probe(entry, ProbeContext("t"))
    return facts, [problem.text for problem in judge(entry, facts).problems]


def test_errors_on_stdout_and_stderr(deployment: dict[str, Any]) -> None:
    facts, problems = run(
        deployment, project=deployment["project"], service="logger", since="1h", level="ERROR"
    )
    assert facts.error is None
    assert facts.count == 2  # `ERROR smtp timeout` (stderr) and the JSON line's "ERROR" (text format)
    assert facts.files == [f"container {deployment['project']}-logger-1"]
    (problem,) = problems
    assert "2 lines of level ERROR or above" in problem
    _facts, problems = run(
        deployment, container=f"{deployment['project']}-logger-1", patterns=["authentication failed"], max=0
    )
    assert len(problems) == 1


def test_json_lines(deployment: dict[str, Any]) -> None:
    facts, _problems = run(
        deployment, project=deployment["project"], service="logger", format="json", level="ERROR"
    )
    assert facts.count == 1
    assert facts.not_json >= 1


def test_missing_container_and_bad_keys(deployment: dict[str, Any]) -> None:
    facts, _problems = run(deployment, container="no-such-container")
    assert facts.error is not None
    assert facts.error.startswith("no container named no-such-container")
    facts, _problems = run(deployment, project=deployment["project"], service="nope")
    assert facts.error is not None
    assert "no container of compose service nope" in facts.error
    with pytest.raises(ValidationError, match="needs `container:`"):
        LogsCheck.model_validate({"source": "docker"})
    with pytest.raises(ValidationError, match="remove `path`"):
        LogsCheck.model_validate({"source": "docker", "container": "a", "path": "x.log"})
    with pytest.raises(ValidationError, match="is for `source: docker`"):
        LogsCheck.model_validate({"path": "x.log", "container": "a"})
