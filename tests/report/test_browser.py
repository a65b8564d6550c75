"""A real browser (headless Chromium) opens the generated report and finds the failed check and its reason."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from opsverify.report.builder import build_report
from tests.report.conftest import FAILED_CHECK, FAILED_REASON

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: run `make system-deps` (Debian: apt-get install chromium)")
    return found


def rendered_text(url: str, profile: Path) -> str:
    """The page's visible text after its scripts ran (DOM dump, scripts and styles removed).

    On a machine with every core busy, headless Chromium's virtual time can run out before the page's own
    reads of its data finish ("Failed to fetch" in the page); such a page is dumped once more."""
    text = _dumped_text(url, profile)
    if "Failed to fetch" in text:
        text = _dumped_text(url, profile)
    return text


def _dumped_text(url: str, profile: Path) -> str:
    completed = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    html = re.sub(r"<(script|style)[\s\S]*?</\1>", " ", completed.stdout)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&"))


def failed_test_id(report: Path) -> str:
    results = json.loads((report / "test-results.json").read_text())["byId"]
    return next(key for key, value in results.items() if value["name"] == FAILED_CHECK)


def test_single_file_report_shows_the_failure(finished_run, tmp_path) -> None:
    output = tmp_path / "single"
    index = build_report(finished_run / "allure-results", output, tmp_path / "h.jsonl", single_file=True)
    text = rendered_text(f"{index.as_uri()}#{failed_test_id(output)}", tmp_path / "profile")
    assert FAILED_CHECK in text
    assert FAILED_REASON in text
    assert "Critical" in text
    assert "Assertion failed" in text


def served_text(report: Path, fragment: str, profile: Path) -> str:
    """The rendered text of a multi-file report served over HTTP (file:// cannot load its data)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(report))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        return rendered_text(f"http://127.0.0.1:{server.server_address[1]}/index.html{fragment}", profile)
    finally:
        server.shutdown()
        server.server_close()


def test_served_report_lists_the_failed_check(finished_run, tmp_path) -> None:
    output = tmp_path / "report"
    build_report(finished_run / "allure-results", output, tmp_path / "h.jsonl")
    text = served_text(output, f"#{failed_test_id(output)}", tmp_path / "profile")
    assert FAILED_CHECK in text
    assert FAILED_REASON in text
