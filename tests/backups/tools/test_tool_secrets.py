"""`pytest -m daily --target FILE` over restic and Borg entries, as an operator runs it: the repository
secrets come from ${VARS}, reach the tools in their environment, and appear in no output, report or state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.backups.pgdumps import Dumps
from tests.backups.tools.repos import PASSWORD, BorgRepo, ResticRepo
from tests.conftest import RunResult


def every_file_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_secrets_never_in_output_reports_or_state(
    run_checks: Callable[..., RunResult],
    restic_repo: ResticRepo,
    borg_repo: BorgRepo,
    dumps: Dumps,
    tmp_path: Path,
    private_tmp: Path,
) -> None:
    body = dumps.plain_gz.read_bytes()
    restic_repo.backup({"backup_1.sql.gz": body})
    borg_repo.create("db-1", {"backup_1.sql.gz": body})
    wrong = "wrong-secret-value-24"
    result = run_checks(
        f"""target: prod
backups:
  db-restic:
    path: {restic_repo.source / "dumps"}
    pattern: "backup_*.sql.gz"
    restic: {{repository: {restic_repo.path}, password: "${{RESTIC_PASSWORD}}", host: db1}}
  db-borg:
    path: {borg_repo.source / "dumps"}
    pattern: "backup_*.sql.gz"
    borg: {{repository: {borg_repo.path}, passphrase: "${{BORG_PASSPHRASE}}", check: repository-only}}
  db-restic-wrong:
    path: {restic_repo.source / "dumps"}
    restic: {{repository: {restic_repo.path}, password: "${{WRONG_PASSWORD}}"}}
""",
        "-m",
        "daily",
        "-rA",
        env={"RESTIC_PASSWORD": PASSWORD, "BORG_PASSPHRASE": PASSWORD, "WRONG_PASSWORD": wrong},
    )
    assert result.returncode == 1, result.output
    assert "backups:db-restic-wrong failed on target prod:" in result.output
    assert "wrong password (restic: no key found for it)" in result.output
    assert "1 failed, 2 passed" in result.output  # the good restic and Borg entries pass
    assert "Traceback" not in result.output
    written = result.output + every_file_text(tmp_path / "reports")
    assert PASSWORD not in written
    assert wrong not in written


def test_secrets_never_in_the_output_of_folder_drills(
    run_checks: Callable[..., RunResult],
    restic_repo: ResticRepo,
    borg_repo: BorgRepo,
    tmp_path: Path,
    private_tmp: Path,
) -> None:
    """`pytest -m dr` over restic and Borg folder drills (one failing, so its evidence is shown): the
    secrets reach restore/extract in the environment and appear nowhere."""
    files = {"a.txt": b"alpha\n", "b.txt": b"beta\n"}
    restic_repo.backup(files)
    borg_repo.create("files-1", files)
    result = run_checks(
        f"""target: prod
backups:
  files-restic:
    path: {restic_repo.source / "dumps"}
    restic: {{repository: {restic_repo.path}, password: "${{RESTIC_PASSWORD}}"}}
    restore: {{expect: {{files: [a.txt, b.txt], min_count: 2}}}}
  files-borg:
    path: {borg_repo.source / "dumps"}
    borg: {{repository: {borg_repo.path}, passphrase: "${{BORG_PASSPHRASE}}"}}
    restore: {{expect: {{files: [a.txt, missing.txt]}}}}
""",
        "-m",
        "dr",
        "-rA",
        env={"RESTIC_PASSWORD": PASSWORD, "BORG_PASSPHRASE": PASSWORD},
    )
    assert result.returncode == 1, result.output
    assert "1 failed, 1 passed" in result.output
    assert "file missing.txt" in result.output
    assert "Traceback" not in result.output
    written = result.output + every_file_text(tmp_path / "reports")
    assert PASSWORD not in written
