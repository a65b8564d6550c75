"""The logs probe on real files: JSON and text logs, rotated and compressed ones, time windows, big files."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.logs.facts import LogsFacts
from opsverify.kinds.logs.model import LogsCheck
from opsverify.kinds.logs.probe import probe
from opsverify.kinds.logs.verdict import judge

NOW = datetime.now(UTC)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def emailops_line(moment: datetime, level: str, message: str, **extra: object) -> str:
    """A line as EmailOps writes it: `ts` ISO 8601, `level`, `logger`, `message`."""
    return json.dumps({"ts": iso(moment), "level": level, "logger": "app", "message": message, **extra})


def write(path: Path, lines: list[str], modified: datetime | None = None) -> Path:
    text = "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    elif path.suffix == ".bz2":
        path.write_bytes(bz2.compress(text.encode()))
    else:
        path.write_text(text)
    if modified is not None:
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


def problems(entry: LogsCheck, facts: LogsFacts) -> list[str]:
    return [problem.text for problem in judge(entry, facts).problems]


def check(tmp_path: Path, **keys: object) -> tuple[LogsCheck, ProbeContext]:
    return LogsCheck.model_validate(keys), ProbeContext("test", tmp_path)


def test_json_errors_in_the_window_across_rotated_and_gzipped_files(tmp_path: Path) -> None:
    write(tmp_path / "app.log.3.gz", [emailops_line(ago(days=3), "ERROR", "ancient")], ago(days=3))
    write(
        tmp_path / "app.log.2.gz",
        [
            emailops_line(ago(hours=30), "ERROR", "too old"),
            emailops_line(ago(hours=20), "ERROR", "smtp down"),
        ],
        ago(hours=20),
    )
    write(tmp_path / "app.log.1", [emailops_line(ago(hours=10), "CRITICAL", "disk full")], ago(hours=10))
    write(
        tmp_path / "app.log",
        [
            emailops_line(ago(hours=2), "INFO", "request"),
            emailops_line(ago(hours=1), "WARNING", "slow"),
            emailops_line(ago(minutes=5), "ERROR", "Failed to send email", request_id="r-1"),
        ],
    )
    entry, ctx = check(tmp_path, path="app.log*", format="json", since="24h", level="ERROR", max=1)
    facts = probe(entry, ctx)
    assert facts.count == 3
    assert [m.text for m in facts.matches] == [
        emailops_line(ago(hours=20), "ERROR", "smtp down"),
        emailops_line(ago(hours=10), "CRITICAL", "disk full"),
        emailops_line(ago(minutes=5), "ERROR", "Failed to send email", request_id="r-1"),
    ]
    assert facts.skipped == [str(tmp_path / "app.log.3.gz")]
    assert [Path(f).name for f in facts.files] == ["app.log.2.gz", "app.log.1", "app.log"]
    (problem,) = problems(entry, facts)
    assert problem.startswith(
        "matching lines: expected at most 1, got 3 lines of level ERROR or above in the last 24h (since "
    )
    assert problem.endswith("in 3 files")
    assert f"{tmp_path / 'app.log'}:3: " in facts.evidence()


def test_patterns_in_a_text_access_log_with_common_log_format_times(tmp_path: Path) -> None:
    def access(moment: datetime, status: int, path: str) -> str:
        stamp = moment.strftime("%d/%b/%Y:%H:%M:%S +0000")
        return f'10.0.0.7 - - [{stamp}] "POST {path} HTTP/1.1" {status} 52 "-" "curl/8.0"'

    write(
        tmp_path / "access.log",
        [access(ago(hours=30), 401, "/api/v1/auth/login authentication failed")]
        + [access(ago(hours=h), 401, "/api/v1/auth/login authentication failed") for h in (5, 4, 3)]
        + [access(ago(hours=1), 200, "/api/v1/auth/login")],
    )
    entry, ctx = check(
        tmp_path,
        path="access.log*",
        since="24h",
        patterns=["authentication failed", "invalid password"],
        max=2,
    )
    facts = probe(entry, ctx)
    assert facts.count == 3
    (problem,) = problems(entry, facts)
    assert "3 lines matching /authentication failed/ or /invalid password/ in the last 24h" in problem


def test_text_levels_iso_and_syslog_timestamps_and_multiline_traces(tmp_path: Path) -> None:
    stamp = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]  # noqa: E731 - Python logging's asctime
    write(
        tmp_path / "web.log",
        [
            f"{stamp(ago(hours=50))} ERROR bimcalc.ingest Ingestion failed",
            "Traceback (most recent call last):",
            "  ValueError: bad price book ERROR",  # a continuation line: belongs to the old entry above
            f"{stamp(ago(hours=1))} INFO bimcalc.web errors=0 handled",
            f"{stamp(ago(minutes=30))} ERROR bimcalc.ingest Ingestion failed",
            f"{stamp(ago(minutes=20))} level=error msg=logfmt",
            f"[{stamp(ago(minutes=10))}] [error] nginx style",
        ],
    )
    syslog_time = ago(minutes=3).astimezone(UTC).strftime("%b %d %H:%M:%S")
    write(tmp_path / "auth.log", [f"{syslog_time} host sshd[42]: FATAL authentication failure"])
    entry, ctx = check(tmp_path, path=["web.log", "auth.log"], since="2h", level="error")
    facts = probe(entry, ctx)
    assert [m.text.split(" ", 2)[-1] for m in facts.matches[:3]] == [
        "ERROR bimcalc.ingest Ingestion failed",
        "level=error msg=logfmt",
        "[error] nginx style",
    ]
    assert facts.matches[3].text.endswith("host sshd[42]: FATAL authentication failure")
    assert len(facts.matches) == 4
    assert facts.untimed == 0


def test_custom_fields_epoch_times_and_numeric_levels(tmp_path: Path) -> None:
    lines = [
        json.dumps({"context": {"at": NOW.timestamp() * 1000 - 3_600_000}, "level": 50, "msg": "pino error"}),
        json.dumps({"context": {"at": NOW.timestamp() * 1000 - 90_000_000}, "level": 60, "msg": "too old"}),
        json.dumps({"context": {"at": NOW.timestamp() - 60}, "level": 30, "msg": "info"}),
        json.dumps({"context": {"at": iso(ago(minutes=1))}, "severity": "error", "level": 40, "msg": "warn"}),
    ]
    write(tmp_path / "api.log", lines)
    entry, ctx = check(
        tmp_path, path="api.log", format="json", time_field="context.at", since="1d", level="ERROR"
    )
    facts = probe(entry, ctx)
    assert [json.loads(m.text)["msg"] for m in facts.matches] == ["pino error"]
    entry, ctx = check(
        tmp_path,
        path="api.log",
        format="json",
        time_field="context.at",
        level="ERROR",
        level_field="severity",
    )
    assert [json.loads(m.text)["msg"] for m in probe(entry, ctx).matches] == ["warn"]


def test_time_regex_and_time_format_with_a_time_zone(tmp_path: Path) -> None:
    berlin = ago(minutes=30).astimezone().replace(tzinfo=None)  # local wall-clock time, no offset written
    write(
        tmp_path / "job.log",
        [
            f"job=backup at={berlin:%d.%m.%Y %H.%M.%S} result=FAILED",
            f"job=backup at={(berlin - timedelta(days=2)):%d.%m.%Y %H.%M.%S} result=FAILED",
        ],
    )
    entry, ctx = check(
        tmp_path,
        path="job.log",
        since="1h",
        patterns=["result=FAILED"],
        time_regex=r"at=(?P<ts>\S+ \S+)",
        time_format="%d.%m.%Y %H.%M.%S",
        timezone="local",
    )
    assert probe(entry, ctx).count == 1


def test_the_first_20_lines_are_kept_and_the_rest_counted(tmp_path: Path) -> None:
    write(tmp_path / "app.log", [emailops_line(ago(minutes=50 - i), "ERROR", f"boom {i}") for i in range(45)])
    entry, ctx = check(tmp_path, path="app.log", format="json", since="24h", level="ERROR")
    facts = probe(entry, ctx)
    assert facts.count == 45
    assert len(facts.matches) == 20
    assert facts.matches[-1].number == 20
    assert "… and 25 more matching lines" in facts.evidence()


def test_no_matching_file_is_an_error_unless_missing_ok(tmp_path: Path) -> None:
    entry, ctx = check(tmp_path, path="logs/*.log", level="ERROR")
    (problem,) = problems(entry, probe(entry, ctx))
    assert (
        problem
        == f"path: no log file matches {tmp_path}/logs/*.log; fix `path` (globs like app.log* include rotated files)"
    )
    entry, ctx = check(tmp_path, path="logs/*.log", level="ERROR", missing_ok=True)
    assert problems(entry, probe(entry, ctx)) == []


def test_a_truncated_archive_is_reported_and_the_rest_still_counted(tmp_path: Path) -> None:
    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress(b'{"level": "INFO"}\n' * 100)[:40])
    write(tmp_path / "app.log.1.bz2", [emailops_line(ago(hours=1), "ERROR", "in bzip2")])
    entry, ctx = check(tmp_path, path="app.log*", format="json", level="ERROR")
    facts = probe(entry, ctx)
    found = problems(entry, facts)
    assert found[0].startswith(f"log file: could not read {tmp_path / 'app.log.2.gz'}: EOFError")
    assert "damaged or truncated archive" in found[0]
    assert [m.text for m in facts.matches] == [emailops_line(ago(hours=1), "ERROR", "in bzip2")]


def test_text_read_as_json_and_a_minimum_are_explained(tmp_path: Path) -> None:
    write(tmp_path / "app.log", ["2026-01-01 12:00:00 ERROR plain text"] * 3)
    entry, ctx = check(tmp_path, path="app.log", format="json", level="ERROR")
    assert problems(entry, probe(entry, ctx)) == [
        "format: none of the 3 lines parsed is a JSON object; are these logs `format: text`?"
    ]
    entry, ctx = check(tmp_path, path="app.log", patterns=["backup completed"], since="24h", min=1)
    (problem,) = problems(entry, probe(entry, ctx))
    assert problem.startswith(
        "matching lines: expected at least 1, got 0 lines matching /backup completed/ in the last 24h"
    )


def test_a_large_log_is_streamed_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    filler = emailops_line(ago(minutes=10), "INFO", "x" * 150)
    with path.open("w") as stream:
        for index in range(150_000):
            stream.write(emailops_line(ago(minutes=5), "ERROR", "rare") if index % 50_000 == 0 else filler)
            stream.write("\n")
    size = path.stat().st_size
    assert size > 30_000_000
    entry, ctx = check(tmp_path, path="big.log", format="json", since="1h", level="ERROR")
    tracemalloc.start()  # the speed of the scan is measured in bench/, not here
    try:
        facts = probe(entry, ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert facts.count == 3
    assert facts.lines_read == 150_000
    assert peak < size / 20, f"peak {peak} bytes while scanning a {size}-byte file"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"level": "ERRORS"}, "unknown level 'ERRORS'; use one of TRACE"),
        ({"patterns": ["(unclosed"]}, "invalid regular expression in patterns:"),
        ({"time_regex": r"^\S+"}, "captures nothing"),
        ({"format": "json", "time_regex": "(x)"}, "`time_regex` is for format: text"),
        ({"time_field": "ts"}, "`time_field` is for format: json"),
        ({"min": 5, "max": 1}, "min \\(5\\) is greater than max \\(1\\)"),
        ({"since": "yesterday"}, "expected a duration like 30s"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"format": "xml"}, "Input should be 'json' or 'text'"),
    ],
)
def test_invalid_entries_are_rejected_with_the_fix(keys: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LogsCheck.model_validate({"path": "app.log", **keys})


def test_max_defaults_to_zero_unless_min_is_given() -> None:
    assert LogsCheck.model_validate({"path": "a.log", "level": "ERROR"}).max == 0
    entry = LogsCheck.model_validate({"path": "a.log", "min": 1})
    assert (entry.max, entry.min) == (None, 1)
