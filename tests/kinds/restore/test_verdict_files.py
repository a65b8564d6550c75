"""A folder restored from a restic snapshot or Borg archive, judged against `files`, `min_count` and `sha256`
from constructed facts (no repository): each problem names the file; `min_count` at its edge; bad keys."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.restore.facts import Verification
from opsverify.kinds.restore.verdict import judge
from opsverify.problem import Problem
from tests.kinds.restore.test_verdict import drill

GOOD = "a" * 64
OTHER = "b" * 64


def entry(expect: dict[str, Any], tool: str = "restic", **keys: Any) -> BackupCheck:
    block = (
        {"restic": {"repository": "/srv/restic", "password": "pw"}}
        if tool == "restic"
        else {"borg": {"repository": "/srv/borg", "passphrase": "pw"}}
    )
    return BackupCheck.model_validate({"path": "/srv/files", **block, "restore": {"expect": expect}, **keys})


def problems(expect: dict[str, Any], found: Verification) -> list[Problem]:
    return judge(entry(expect), drill(found, verified=True)).problems


@pytest.mark.parametrize(("count", "fails"), [(9, True), (10, False), (11, False)])
def test_min_count_is_at_least_the_limit(count: int, fails: bool) -> None:
    found = problems({"min_count": 10}, Verification(files=count))
    if fails:
        assert [(p.subject, p.found, p.expected) for p in found] == [
            ("restored folder", "9 files", "at least 10 files (min_count)")
        ]
    else:
        assert found == []


def test_min_count_zero_passes_an_empty_folder() -> None:
    assert problems({"min_count": 0}, Verification(files=0)) == []


def test_a_missing_listed_file_is_named() -> None:
    found = problems(
        {"files": ["invoices/*.pdf", "logo.png"]}, Verification(files=3, missing_files=["invoices/*.pdf"])
    )
    assert [(p.subject, p.found, p.expected) for p in found] == [
        ("file invoices/*.pdf", "not in the restored folder", "present (expect.files)")
    ]
    assert "excludes" in (found[0].fix or "")


def test_sha256_mismatch_and_missing_file_are_named() -> None:
    expect = {"sha256": {"a.txt": GOOD, "b.txt": GOOD, "c.txt": GOOD}}
    found = problems(
        expect, Verification(files=2, file_sha256={"a.txt": GOOD, "b.txt": OTHER, "c.txt": None})
    )
    assert [(p.subject, p.found, p.expected) for p in found] == [
        ("file b.txt", f"sha256 {OTHER}", f"sha256 {GOOD} (expect.sha256)"),
        ("file c.txt", "not in the restored folder", "present (expect.sha256)"),
    ]


def test_sha256_is_compared_in_lower_case() -> None:
    assert entry({"sha256": {"a.txt": GOOD.upper()}}).restore.expect.sha256 == {"a.txt": GOOD}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("expect", "words"),
    [
        ({"files": ["/etc/passwd"]}, "files: expected a path relative to the restored folder"),
        ({"files": ["../x"]}, "files: expected a path relative to the restored folder"),
        ({"sha256": {"a.txt": "abc"}}, "sha256.a.txt: expected 64 hex digits (`sha256sum FILE`), got 'abc'"),
        ({"sha256": {"*.txt": GOOD}}, "sha256.*.txt: name one file, not a glob"),
        ({"min_count": -1}, "greater than or equal to 0"),
        ({"min_count": 1, "tables": ["bookings"]}, "restore.expect.tables checks a restored database"),
    ],
)
def test_bad_keys_are_named(expect: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        entry(expect)
    assert words in str(raised.value)


def test_a_folder_drill_needs_a_tool_repository() -> None:
    with pytest.raises(ValidationError) as raised:
        BackupCheck.model_validate({"path": "/srv/backups", "restore": {"expect": {"min_count": 1}}})
    assert "add `restic:` or `borg:` to this entry" in str(raised.value)


def test_borg_entries_take_the_keys_too() -> None:
    assert entry({"files": ["a.txt"]}, tool="borg").restore.expect.checks_files()  # type: ignore[union-attr]


def test_each_file_problem_says_what_to_do() -> None:
    expect = {"files": ["logo.png"], "min_count": 5, "sha256": {"a.txt": GOOD}}
    found = problems(expect, Verification(files=2, missing_files=["logo.png"], file_sha256={"a.txt": OTHER}))
    assert found == [
        Problem(
            "file logo.png",
            "not in the restored folder",
            "present (expect.files)",
            "is `path` the backed-up folder, and does the backup include it (excludes)?",
        ),
        Problem(
            "restored folder",
            "2 files",
            "at least 5 files (min_count)",
            "the snapshot holds fewer files than expected: check the backup's paths and excludes",
        ),
        Problem(
            "file a.txt",
            f"sha256 {OTHER}",
            f"sha256 {GOOD} (expect.sha256)",
            "the file in the backup differs from the recorded one: a changed source file, or a "
            "damaged snapshot (run the tool's deep check)",
        ),
    ]


def test_a_file_that_was_not_hashed_skips_only_itself() -> None:
    expect = {"sha256": {"a.txt": GOOD, "b.txt": GOOD}}
    found = problems(expect, Verification(files=2, file_sha256={"b.txt": OTHER}))
    assert [(p.subject, p.found) for p in found] == [("file b.txt", f"sha256 {OTHER}")]
