"""`opsverify validate`: checks by kind and tier with secrets masked; exit 0 valid, 1 invalid, 2 usage."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsverify.cli import CLOSED_PIPE_EXIT, SUBCOMMANDS, main

TARGET = """\
target: shop
public_env: [API_URL]  # shown, but the password in it is still masked
http:
  api-health:
    url: ${API_URL}/healthz
    severity: critical
  admin:
    url: https://admin.example.com/login
    auth: {bearer: "${ADMIN_TOKEN}"}
    tiers: [daily, weekly]
  legacy: {url: "http://127.0.0.1:9/", enabled: false}
"""


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "targets"
    folder.mkdir()
    (folder / "shop.yaml").write_text(TARGET)
    (folder / "broken.yaml").write_text("target: broken\nhttp:\n  api: {url: 'http://x', sampels: 3}\n")
    monkeypatch.setenv("API_URL", "https://ops:hunter2-canary@api.example.com")
    monkeypatch.setenv("ADMIN_TOKEN", "token-canary-31337")
    monkeypatch.delenv("OPSVERIFY_TARGET", raising=False)
    monkeypatch.delenv("OPSVERIFY_TARGETS_DIR", raising=False)
    return folder


def test_validate_lists_checks_by_kind_and_tier_with_secrets_masked(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--targets-dir", str(targets), "shop"]) == 0
    output = capsys.readouterr().out
    assert f"target shop ({targets / 'shop.yaml'}): valid, 2 checks, 1 disabled" in output
    assert "  http: HTTP endpoint" in output
    lines = output.splitlines()
    health = next(line for line in lines if "http:api-health" in line)
    assert "[smoke, daily] critical" in health
    assert "https://ops:***@api.example.com/healthz" in health
    assert "[daily, weekly]" in next(line for line in lines if "http:admin" in line)
    dir_option = f"--targets-dir={targets}"
    assert f"    smoke        1   opsverify run smoke --target shop {dir_option}" in lines
    assert f"    daily        2   opsverify run daily --target shop {dir_option}" in lines
    assert f"    weekly       1   opsverify run weekly --target shop {dir_option}" in lines
    assert "canary" not in output


def test_validate_reports_an_invalid_target_and_fails(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--targets-dir", str(targets), "shop", "broken"]) == 1
    captured = capsys.readouterr()
    assert "target shop" in captured.out
    assert "broken.yaml:3: http.api.sampels: unknown key 'sampels'" in captured.err
    assert "did you mean 'samples'?" in captured.err


def test_validate_without_a_target_lists_the_targets(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--targets-dir", str(targets)]) == 2
    assert "broken, shop" in capsys.readouterr().err


def test_validate_reads_opsverify_target(
    targets: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSVERIFY_TARGET", "shop")
    monkeypatch.setenv("OPSVERIFY_TARGETS_DIR", str(targets))
    assert main(["validate"]) == 0
    assert "target shop" in capsys.readouterr().out


def test_the_console_script_runs_every_subcommand_help(targets: Path) -> None:
    script = Path(sys.executable).with_name("opsverify")
    completed = subprocess.run(
        [str(script), "validate", "--targets-dir", str(targets), "broken"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "broken.yaml:3" in completed.stderr
    assert "Traceback" not in completed.stderr
    listing = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=True)
    for command in ("validate", "run", "init", "demo", "report", "schedule"):
        assert command in listing.stdout


def closed_pipe_run(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script with its stdout a pipe whose reader is gone (`| head -1` once it has its line)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [str(Path(sys.executable).with_name("opsverify")), *args],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    "words",
    [["validate", "shop"], ["run", "smoke", "--target", "shop", "--print"], ["--help"], ["--version"]]
    + [[name, "--help"] for name in SUBCOMMANDS],
    ids=lambda words: " ".join(words),
)
def test_every_command_exits_quietly_on_a_closed_pipe(targets: Path, words: list[str]) -> None:
    # argparse's help and version ignore a failed write and exit 0; a command's output stops with 141
    expected = 0 if words[-1] in ("--help", "--version") else CLOSED_PIPE_EXIT
    if words[0] in ("validate", "run"):
        words = [*words, "--targets-dir", str(targets)]
    completed = closed_pipe_run(*words)
    assert completed.stderr == ""  # no BrokenPipeError, no "Exception ignored"
    assert completed.returncode == expected


THRESHOLDS = """\
target: billing
http:
  api:
    url: https://billing.example.com/healthz
    expect: {status: [200, 204], json: {status: ok, db: true}, max_latency_ms: 500}
    samples: 5
    severity: critical
tls:
  cert: {host: billing.example.com, min_days_left: 1}
postgres:
  main:
    url: postgresql://ops@db.example.com/billing
    max_connections_pct: 80
    queries: {pending-jobs: {sql: "select count(*) from jobs", max: 100}}
backups:
  db:
    path: /var/backups/billing
    max_age: 26h
    min_size: 1MB
    restore:
      rto: 4h
      expect: {min_rows: {invoices: 1000}, freshness: {sql: "select max(created) from invoices", max_lag: 24h}}
logs:
  errors: {path: /var/log/billing/app.log*, level: ERROR, since: 24h, max: 3}
host:
  disk: [{path: /, max_used_pct: 85}]
"""


def test_validate_prints_thresholds_and_the_run_command_of_each_tier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "billing.yaml"
    path.write_text(THRESHOLDS)
    assert main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()

    def line(check_id: str) -> str:
        return next(text for text in lines if text.strip().startswith(check_id + " "))

    assert line("http:api").endswith(
        "critical https://billing.example.com/healthz  status 200/204, p95 <= 500 ms, json status=ok, json db=true"
    )
    assert line("tls:cert").endswith("billing.example.com:443  >= 1 day left")
    assert line("postgres:main").endswith("postgresql://ops@db.example.com/billing  connections <= 80%")
    assert line("postgres:main/pending-jobs").endswith("query pending-jobs <= 100")
    assert line("backups:db").endswith(
        "/var/backups/billing  newest <= 26h old, size >= 1.0MB, shrink <= 50% (median of last 5)"
    )
    assert line("restore:db").endswith("RTO <= 4h, RPO <= 24h, >= 1000 rows in invoices")
    assert line("logs:errors").endswith("<= 3 lines of level >= ERROR in 24h")
    assert line("host:disk:/").endswith("/  used <= 85%")
    assert f"    daily        7   opsverify run daily --target {path}" in lines
    assert f"    dr           1   opsverify run dr --target {path}" in lines


def test_validate_lists_each_rule_check_with_its_own_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        "target: app\n"
        "metrics:\n"
        "  api:\n"
        "    url: https://app.example.com/metrics\n"
        "    rules:\n"
        "      error-ratio: {ratio: [errors_total, requests_total], max: 0.01}\n"
        "      p95-seconds: {quantile: 0.95, histogram: latency_seconds, max: 0.5}\n"
    )
    assert main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"target app ({path}): valid, 2 checks" in lines
    ratio = next(text for text in lines if text.strip().startswith("metrics:api/error-ratio "))
    assert ratio.endswith("https://app.example.com/metrics  error-ratio <= 0.01")
    p95 = next(text for text in lines if text.strip().startswith("metrics:api/p95-seconds "))
    assert p95.endswith("https://app.example.com/metrics  p95-seconds <= 0.5")
    assert not any(text.strip().startswith("metrics:api ") for text in lines)


STATE_TARGET = "target: shop\nhttp:\n  api: {url: 'http://127.0.0.1:9/'}\nstate: {retention: {results: 10d, drills: 30d}}\n"


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A target with 10 days of results kept, and a store with one run past that and one within it."""
    import time

    from opsverify.state.model import StoredResult
    from opsverify.state.store import open_store

    target = tmp_path / "shop.yaml"
    target.write_text(STATE_TARGET)
    monkeypatch.setenv("OPSVERIFY_STATE_DIR", str(tmp_path / "state"))
    store = open_store(None, tmp_path / "state")
    for run_id, age_days in (("old", 11), ("new", 9)):
        finished = time.time() - age_days * 86400
        rows = [StoredResult(run_id, "shop", "http:api", "passed", 0.1, finished)]
        store.record_results(run_id, "shop", rows)
    return target


def test_state_info_shows_rows_oldest_newest_size_and_what_is_past_retention(stored: Path, capsys) -> None:
    assert main(["state", "info", "--target", str(stored)]) == 0
    out = capsys.readouterr().out
    assert "opsverify.db" in out
    assert re.search(
        r"^  results +2  \d{4}-\d\d-\d\d .* UTC +\d{4}-\d\d-\d\d .* UTC +\(finished\)$", out, re.M
    )
    assert re.search(r"^  drills +0  - +- +\(started\)$", out, re.M)
    assert re.search(r"size: file \S+, wal \S+, free \S+", out)
    assert "retention of shop: results 10d, drills 30d" in out
    assert "past retention now: 1 results (1 runs), 0 drills, 0 expired silences" in out


def test_state_prune_dry_run_deletes_nothing_then_prune_deletes_past_retention(stored: Path, capsys) -> None:
    assert main(["state", "prune", "--dry-run", "--target", str(stored)]) == 0
    assert "would delete from" in capsys.readouterr().out
    assert main(["state", "prune", "--vacuum", "--target", str(stored)]) == 0
    out = capsys.readouterr().out
    assert "deleted from" in out
    assert "1 results (1 runs)" in out
    assert "vacuumed" in out
    assert main(["history", "http:api", "--target", str(stored)]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if "passed" in line]) == 1


def test_state_without_an_action_or_with_a_bad_retention_says_the_fix(stored: Path, capsys) -> None:
    assert main(["state"]) == 2
    assert "opsverify state info|prune --target NAME" in capsys.readouterr().err
    bad = stored.with_name("bad.yaml")
    bad.write_text(STATE_TARGET.replace("10d", "ten days"))
    assert main(["state", "prune", "--target", str(bad)]) == 4
    err = capsys.readouterr().err
    assert "bad.yaml:4" in err
    assert "retention.results" in err
    assert "ten days" in err
    assert "Traceback" not in err


def test_each_command_help_line_is_its_module_help() -> None:
    import importlib

    for name, (module_name, help_line) in SUBCOMMANDS.items():
        assert help_line == importlib.import_module(module_name).HELP, name


def test_a_command_imports_its_own_module_only() -> None:
    """`opsverify history` does not pay for importing the demo, the scheduler or the importers (start-up)."""
    code = (
        "import sys\n"
        "from opsverify.cli import build_parser\n"
        "build_parser('history')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('opsverify.'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert "opsverify.state.history" in loaded
    for other in (
        "opsverify.demo.cli",
        "opsverify.scheduler",
        "opsverify.importers.cli",
        "opsverify.evidence",
    ):
        assert other not in loaded
