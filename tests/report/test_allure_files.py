"""environment.properties, executor.json from CI variables, categories, and the redaction passes."""

from __future__ import annotations

import json
import re

import pytest

from opsverify.redaction import SECRETS
from opsverify.report.allure_files import (
    CATEGORIES,
    ci_executor,
    environment_properties,
    redact_junit,
    redact_results_dir,
)

SECRET = 'pa"ss<&>word-42'  # JSON and XML escape some of its characters


def test_github_and_gitlab_executors() -> None:
    github = ci_executor(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/ops",
            "GITHUB_RUN_ID": "99",
            "GITHUB_RUN_NUMBER": "12",
            "GITHUB_WORKFLOW": "smoke gate",
        }
    )
    assert github == {
        "name": "GitHub Actions",
        "type": "github",
        "url": "https://github.com/acme/ops",
        "buildOrder": 12,
        "buildName": "smoke gate #12",
        "buildUrl": "https://github.com/acme/ops/actions/runs/99",
        "reportName": "opsverify",
    }
    gitlab = ci_executor(
        {
            "GITLAB_CI": "true",
            "CI_PIPELINE_IID": "5",
            "CI_JOB_NAME": "dr-drill",
            "CI_JOB_URL": "https://gl/j/1",
        }
    )
    assert gitlab is not None
    assert (gitlab["type"], gitlab["buildName"], gitlab["buildUrl"]) == (
        "gitlab",
        "dr-drill #5",
        "https://gl/j/1",
    )
    assert ci_executor({}) is None


def test_environment_properties_escape_and_skip_empty() -> None:
    text = environment_properties(
        {"target": "prod", "tiers": "smoke, daily", "url": "a=b:c", "git.sha": None}
    )
    assert text == "target=prod\ntiers=smoke, daily\nurl=a\\=b\\:c\n"


@pytest.mark.parametrize(
    ("message", "category"),
    [
        (
            "http:api failed on target p:\n  - connection refused by db:5432 (target unreachable",
            "Target unreachable",
        ),
        ("http:api failed on target p:\n  - no response from api:443 within 10s (timeout)", "Timeout"),
        ("backups:nightly failed on target p:\n  - newest backup is 30h old", "Backup integrity"),
        ("restore:nightly failed on target p:\n  - table bookings missing", "Restore failed"),
        ("http:api failed on target p:\n  - status: expected 200, got 503", "Assertion failed"),
    ],
)
def test_categories_first_match(message: str, category: str) -> None:
    for rule in CATEGORIES:
        pattern = rule.get("messageRegex")
        if pattern is None or re.fullmatch(pattern, message):
            assert rule["name"] == category
            return
    pytest.fail("no category matched")


def test_results_dir_redaction(tmp_path) -> None:
    SECRETS.add(SECRET)
    (tmp_path / "a-result.json").write_text(json.dumps({"statusDetails": {"message": f"token {SECRET}"}}))
    (tmp_path / "b-attachment.txt").write_text(f"stdout: {SECRET}\n")
    (tmp_path / "c-attachment.png").write_bytes(b"\x89PNG" + SECRET.encode())
    (tmp_path / "d-result.json").write_text(json.dumps({"name": "clean"}))
    assert redact_results_dir(tmp_path) == 2
    assert json.loads((tmp_path / "a-result.json").read_text())["statusDetails"]["message"] == "token ***"
    assert (tmp_path / "b-attachment.txt").read_text() == "stdout: ***\n"
    assert SECRET.encode() in (tmp_path / "c-attachment.png").read_bytes()  # binary left alone


def test_junit_redaction_handles_escaped_secrets(tmp_path) -> None:
    SECRETS.add(SECRET)
    escaped = SECRET.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite><testcase name="t"><failure message="x {escaped}">{escaped}</failure>'
        f"<system-out>{escaped}</system-out></testcase></testsuite></testsuites>"
    )
    assert redact_junit(path) is True
    text = path.read_text()
    assert escaped not in text
    assert SECRET not in text
    assert text.count("***") == 3


def test_results_written_by_the_writer_thread_are_redacted_and_skipped_by_the_final_pass(tmp_path) -> None:
    from allure_commons.model2 import StatusDetails, TestResult

    from opsverify.report.allure_writer import RedactingFileLogger

    writer_secret = "writer-secret-77"
    SECRETS.add(writer_secret)
    logger = RedactingFileLogger(tmp_path)
    result = TestResult(
        name="http:api", uuid="u1", statusDetails=StatusDetails(message=f"token {writer_secret}")
    )
    logger.report_result(result)
    logger.report_attached_data(body=f"body {writer_secret}", file_name="a-attachment.txt")
    logger.report_attached_data(body=b"\x89PNG\xff" + writer_secret.encode(), file_name="b-attachment.png")
    logger.report_attached_data(body=json.dumps({"k": writer_secret}), file_name="c-attachment.json")
    logger.flush()
    written = sorted(path.name for path in tmp_path.iterdir())
    assert len(written) == 4  # no temporary files left
    assert set(written) == logger.written
    (result_file,) = tmp_path.glob("*-result.json")
    assert json.loads(result_file.read_text())["statusDetails"]["message"] == "token ***"
    assert (tmp_path / "a-attachment.txt").read_text() == "body ***"
    assert writer_secret.encode() in (tmp_path / "b-attachment.png").read_bytes()  # binary left alone
    assert json.loads((tmp_path / "c-attachment.json").read_text()) == {"k": "***"}
    assert redact_results_dir(tmp_path, skip=logger.written) == 0
    logger.close()
    logger.report_attached_data(body=f"late {writer_secret}", file_name="d-attachment.txt")  # after close
    logger.close()
    assert (tmp_path / "d-attachment.txt").read_text() == "late ***"


def test_many_files_go_through_the_writer_process_and_are_all_on_disk_after_flush(
    tmp_path, monkeypatch
) -> None:
    from allure_commons.model2 import StatusDetails, TestResult

    from opsverify.report import allure_writer

    monkeypatch.setattr(allure_writer, "INLINE_FILES", 5)
    writer_secret = "writer-secret-process-91"
    SECRETS.add(writer_secret)
    logger = allure_writer.RedactingFileLogger(tmp_path)
    for index in range(300):
        logger.report_result(
            TestResult(
                name=f"http:ep-{index}", uuid=f"u{index}", statusDetails=StatusDetails(message=writer_secret)
            )
        )
        logger.report_attached_data(body=f"body {index} {writer_secret}", file_name=f"{index}-attachment.txt")
    assert logger._child is not None  # the files beyond the first five went to the writer process
    logger.flush()
    assert logger._child is None
    names = {path.name for path in tmp_path.iterdir()}
    assert len(names) == 600  # no temporary files left
    assert names == logger.written
    assert len(logger.results) == 300
    assert all(writer_secret not in path.read_text() for path in tmp_path.iterdir())
    assert (tmp_path / "299-attachment.txt").read_text() == "body 299 ***"
    logger.close()


def test_a_run_that_expects_many_files_starts_the_writer_process_at_once(tmp_path) -> None:
    from opsverify.report import allure_writer

    few = allure_writer.RedactingFileLogger(tmp_path / "few")
    few.expect(allure_writer.INLINE_FILES)
    assert few._child is None  # a small run writes its files itself
    many = allure_writer.RedactingFileLogger(tmp_path / "many")
    many.expect(2 * allure_writer.INLINE_FILES)
    assert many._child is not None  # not after the first INLINE_FILES written in the test loop
    many.write_redacted("1-attachment.json", b'{"already": "redacted"}')
    many.flush()
    assert (tmp_path / "many" / "1-attachment.json").read_bytes() == b'{"already": "redacted"}'
    assert many.written == {"1-attachment.json"}
    few.close()
    many.close()


def test_without_a_writer_process_the_files_are_written_here(tmp_path, monkeypatch) -> None:
    from opsverify.report import allure_writer

    monkeypatch.setattr(allure_writer, "INLINE_FILES", 0)
    monkeypatch.setattr(allure_writer.sys, "executable", str(tmp_path / "no-such-python"))
    logger = allure_writer.RedactingFileLogger(tmp_path / "results")
    for index in range(10):
        logger.report_attached_data(body=f"body {index}", file_name=f"{index}-attachment.txt")
    logger.flush()
    assert len(list((tmp_path / "results").iterdir())) == 10
    assert logger.errors == []


def test_files_the_writer_could_not_write_are_reported_not_raised(tmp_path, monkeypatch) -> None:
    import shutil

    from opsverify.report import allure_writer

    monkeypatch.setattr(allure_writer, "INLINE_FILES", 0)
    results = tmp_path / "results"
    logger = allure_writer.RedactingFileLogger(results)
    shutil.rmtree(results)  # the folder went away under the run
    for index in range(2000):  # more failures than a pipe holds messages: nothing may stall
        logger.report_attached_data(body=f"body {index}", file_name=f"{index}-attachment.txt")
    logger.flush()  # the writer process fails, the logger tries itself, and reports what failed
    assert len(logger.errors) == 2000
    assert all("attachment.txt" in error for error in logger.errors)
    assert logger.written == set()


def test_results_are_serialised_as_allure_commons_does_and_redacted_in_the_same_walk() -> None:
    from allure_commons.model2 import (
        Attachment,
        Label,
        Link,
        Parameter,
        StatusDetails,
        TestResult,
        TestStepResult,
    )
    from attr import asdict

    from opsverify.redaction import redact, redact_data
    from opsverify.report.allure_writer import plain

    SECRETS.add("plain-walk-secret")
    result = TestResult(
        name="http:api plain-walk-secret",
        uuid="u",
        fullName="f",
        historyId="h",
        testCaseId="t",
        statusDetails=StatusDetails(message="m plain-walk-secret", trace=""),
        status="passed",
        start=0,
        stop=12,
        labels=[Label(name="a", value="plain-walk-secret")],
        parameters=[Parameter(name="check", value="'t/c'", excluded=False)],
        links=[Link(type="issue", url="http://user:pw@host/", name="n")],
        steps=[
            TestStepResult(
                name="s",
                status="failed",
                steps=[TestStepResult(name="inner", start=1)],
                attachments=[Attachment(name="a", source="s", type="text/plain")],
            )
        ],
    )
    expected = redact_data(asdict(result, filter=lambda _a, value: bool(value) or value is False))
    assert plain(result, redact) == expected
    assert "plain-walk-secret" not in json.dumps(expected)
    assert plain(result)["statusDetails"] == {"message": "m plain-walk-secret"}  # no `clean`: unchanged


def test_facts_too_long_for_an_attachment_are_masked_before_they_are_cut(monkeypatch) -> None:
    from dataclasses import dataclass

    from opsverify.report import allure_check as session

    @dataclass
    class Facts:
        body: str

    secret = "cut-here-secret-4711"
    SECRETS.add(secret)
    head = '{\n  "body": "'
    monkeypatch.setattr(session, "ATTACHMENT_LIMIT", len(head) + 10 + 4)  # the cut falls inside the secret
    text = session.facts_text(Facts("x" * 10 + secret + "y" * 50))
    assert secret[:4] not in text
    assert "***" in text
    assert "more characters)" in text


def test_facts_attachments_are_redacted_by_the_writer_as_json(tmp_path) -> None:
    from dataclasses import dataclass

    from opsverify.report import allure_check as session
    from opsverify.report.allure_writer import RedactingFileLogger

    @dataclass
    class Facts:
        header: str
        token: str

    secret = "facts-writer-secret-93"
    SECRETS.add(secret)
    logger = RedactingFileLogger(tmp_path)
    text = session.facts_text(Facts("Authorization: Bearer abc, next", secret))
    logger.report_attached_data(body=text, file_name="f-attachment.json")
    logger.flush()
    data = json.loads((tmp_path / "f-attachment.json").read_text())  # still JSON
    assert data == {"header": "Authorization: ***, next", "token": "***"}
