"""What opsverify adds to allure-results besides the test results: environment.properties, executor.json
(from CI variables), categories.json, and a final redaction pass over every written file (and JUnit).
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from opsverify import __version__
from opsverify.redaction import redact, redact_data
from opsverify.report.store_history import check_key

TEXT_SUFFIXES = {"", ".txt", ".json", ".log", ".html", ".htm", ".xml", ".csv", ".properties", ".yaml", ".md"}

# First match wins (Allure 2 and 3 both read this file). Messages are failure_text() texts:
# "<kind>:<name> failed on target <t>:\n  - <problem>...". `[\s\S]*` spans lines in Java and JS regexes.
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Target unreachable",
        "description": "The service did not accept a connection: down, wrong host/port, DNS or firewall.",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"[\s\S]*([Cc]onnection refused|[Cc]annot connect|[Cc]annot resolve|[Cc]ould not connect|"
        r"unreachable|[Nn]o route to host|[Nn]ame or service not known|[Cc]onnection reset)[\s\S]*",
    },
    {
        "name": "Timeout",
        "description": "The service accepted the connection but did not answer in time.",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"[\s\S]*([Tt]imed out|[Tt]imeout|did not answer within)[\s\S]*",
    },
    {
        "name": "Backup integrity",
        "description": "The newest backup is missing, too old, too small, corrupt or fails its checksum.",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"[\s\S]*\bbackups:\S+ failed on target[\s\S]*",
    },
    {
        "name": "Restore failed",
        "description": "The restore drill could not restore or verify the backup, or missed its RTO/RPO.",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"[\s\S]*\brestore:\S+ failed on target[\s\S]*",
    },
    {
        "name": "Assertion failed",
        "description": "The target answered, but not as the target file expects.",
        "matchedStatuses": ["failed"],
    },
]


def step_uuid() -> str:
    """A random (version 4) UUID for a report step or file, without `uuid4`'s `os.urandom` system call: the
    ids need to be unique, not unpredictable, and each system call lets another thread take the GIL."""
    return str(UUID(int=random.getrandbits(128), version=4))


def git_sha(root: Path, environ: Mapping[str, str] = os.environ) -> str | None:
    """The commit the checks ran from: CI's variable, else `git rev-parse HEAD` (None outside a repo)."""
    for variable in ("GITHUB_SHA", "CI_COMMIT_SHA"):
        if environ.get(variable):
            return environ[variable]
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = completed.stdout.strip()
    return sha if completed.returncode == 0 and sha else None


def _escape_property(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")


def _split_property(line: str) -> tuple[str, str] | None:
    """(key, value) of one line written by environment_properties: escapes undone; None without a `=`."""
    parts: list[list[str]] = [[]]
    chars = iter(line)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            parts[-1].append("\n" if following == "n" else following)
        elif char == "=" and len(parts) == 1:
            parts.append([])
        else:
            parts[-1].append(char)
    return ("".join(parts[0]), "".join(parts[1])) if len(parts) == 2 else None


def read_environment_properties(results_dir: Path) -> dict[str, str]:
    """The key=value pairs of results_dir/environment.properties ({} if there is none)."""
    try:
        text = (results_dir / "environment.properties").read_text(encoding="utf-8")
    except OSError:
        return {}
    return dict(pair for pair in map(_split_property, text.splitlines()) if pair is not None)


def environment_properties(values: Mapping[str, str | None]) -> str:
    """Java .properties text (what Allure shows as the Environment widget)."""
    lines = [f"{_escape_property(k)}={_escape_property(v)}" for k, v in values.items() if v]
    return redact("\n".join(lines) + "\n")


RUN_ID_PROPERTY = "run.id"  # the run's id (summary.json's run_id): `opsverify report` keys history by it


def run_environment(
    targets: list[str], target_files: list[str], tiers: list[str], root: Path, run_id: str | None = None
) -> dict[str, str | None]:
    import pytest

    return {
        RUN_ID_PROPERTY: run_id,
        "target": ", ".join(targets),
        "target.file": ", ".join(target_files),
        "tiers": ", ".join(tiers) or "all",
        "opsverify.version": __version__,
        "git.sha": git_sha(root),
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "host": platform.node(),
    }


def ci_executor(environ: Mapping[str, str] = os.environ) -> dict[str, Any] | None:
    """executor.json for GitHub Actions or GitLab CI (None when not running in CI we know)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = environ.get("GITHUB_REPOSITORY", "")
        number = environ.get("GITHUB_RUN_NUMBER", "")
        run_id = environ.get("GITHUB_RUN_ID", "")
        return {
            "name": "GitHub Actions",
            "type": "github",
            "url": f"{server}/{repository}",
            "buildOrder": int(number) if number.isdigit() else None,
            "buildName": f"{environ.get('GITHUB_WORKFLOW', 'workflow')} #{number}",
            "buildUrl": f"{server}/{repository}/actions/runs/{run_id}" if run_id else None,
            "reportName": "opsverify",
        }
    if environ.get("GITLAB_CI") == "true":
        number = environ.get("CI_PIPELINE_IID", "")
        return {
            "name": "GitLab CI",
            "type": "gitlab",
            "url": environ.get("CI_PROJECT_URL"),
            "buildOrder": int(number) if number.isdigit() else None,
            "buildName": f"{environ.get('CI_JOB_NAME', 'job')} #{number}",
            "buildUrl": environ.get("CI_JOB_URL") or environ.get("CI_PIPELINE_URL"),
            "reportName": "opsverify",
        }
    return None


def write_results_metadata(results_dir: Path, environment: Mapping[str, str | None]) -> None:
    """environment.properties, categories.json and (in CI) executor.json into the results folder."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "environment.properties").write_text(environment_properties(environment), encoding="utf-8")
    (results_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    executor = ci_executor()
    if executor is not None:
        cleaned = {k: v for k, v in executor.items() if v is not None}
        (results_dir / "executor.json").write_text(
            json.dumps(redact_data(cleaned), indent=2) + "\n", encoding="utf-8"
        )


MUTED_DECISIONS = ("silenced", "maintenance")  # shown muted in Allure: a known failure nobody is paged for


def annotate_results(
    results_dir: Path,
    warnings: Mapping[str, list[str]],
    gates: Mapping[str, tuple[str, str]],
    since: float = 0.0,
) -> int:
    """Mark this run's results (by their `check` parameter, "target/check id") in place: how many changed.

    A warning (never a failure) becomes the tag `warning` and a `warning: ...` line of the status message.
    A failure held back by a gate (silenced, in a maintenance window, blocked by a dependency) gets the tag
    of its decision and its note before the message; silenced and maintenance failures are muted
    (`statusDetails.muted`, which Allure shows as muted).
    """
    if not results_dir.is_dir() or not (warnings or gates):
        return 0
    changed = 0
    for path in results_dir.glob("*-result.json"):
        try:
            if path.stat().st_mtime < since:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        key = check_key(data)
        if key is None or (key not in warnings and key not in gates):
            continue
        labels = data.setdefault("labels", [])
        details = data.setdefault("statusDetails", {})
        message = str(details.get("message") or "")
        gate = gates.get(key)
        if gate is not None:
            decision, note = gate
            labels.append({"name": "tag", "value": decision})
            message = f"[{note}; nothing was sent] {message}".rstrip()
            if decision in MUTED_DECISIONS:
                details["muted"] = True
        found = warnings.get(key) or []
        if found:
            labels.append({"name": "tag", "value": "warning"})
            message = "\n".join([*(f"warning: {w}" for w in found), *([message] if message else [])])
        details["message"] = message
        # redacted here: the final redaction pass skips the files the Allure writer wrote (already redacted)
        path.write_text(json.dumps(redact_data(data), ensure_ascii=False), encoding="utf-8")
        changed += 1
    return changed


def redacted_text(suffix: str, text: str) -> str | None:
    """`text` of a file named `*suffix` with its secrets masked (JSON parsed, other text as text); None when
    nothing changes or the suffix is not a text one."""
    suffix = suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            cleaned_data = redact_data(data)
            return None if cleaned_data == data else json.dumps(cleaned_data, ensure_ascii=False)
    cleaned = redact(text)
    return None if cleaned == text else cleaned


def redact_file(path: Path) -> bool:
    """Mask secrets in one written file (JSON parsed, other text as text, binary left alone): changed?"""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    try:
        original = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    cleaned = redacted_text(path.suffix, original)
    if cleaned is None:
        return False
    path.write_text(cleaned, encoding="utf-8")
    return True


def redact_results_dir(results_dir: Path, since: float = 0.0, skip: Collection[str] = ()) -> int:
    """Run redact_file over every file written in `results_dir` since `since` (but the names in `skip`,
    written redacted already): how many changed."""
    if not results_dir.is_dir():
        return 0
    changed = 0
    for path in results_dir.iterdir():
        if path.name in skip:
            continue
        try:
            recent = path.is_file() and path.stat().st_mtime >= since
        except OSError:
            continue
        if recent and redact_file(path):
            changed += 1
    return changed


def redact_junit(path: Path) -> bool:
    """Mask secrets in a JUnit XML file (text, attributes and escaped forms alike): changed?"""
    try:
        tree = ET.parse(path)  # noqa: S314 (pytest wrote this file in this run: trusted)
    except (OSError, ET.ParseError):
        return redact_file(path)
    changed = False
    for element in tree.iter():
        for attribute in ("text", "tail"):
            value = getattr(element, attribute)
            if value and redact(value) != value:
                setattr(element, attribute, redact(value))
                changed = True
        for key, value in list(element.attrib.items()):
            if redact(value) != value:
                element.attrib[key] = redact(value)
                changed = True
    if changed:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return changed
