"""A scheduled job's targets: where its target names are looked up, the pytest command it runs, and the target
files it names that do not exist on this machine (found when the schedule loads, not at 02:00)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from opsverify.config.target import list_targets, resolve_target_path
from opsverify.config.yamlsource import KeyPath, SourceMap, TargetError, format_path
from opsverify.run import ALL_TIERS, pytest_command
from opsverify.scheduler.model import Job


def pytest_argv(python: str, job: Job, workdir: Path) -> list[str]:
    """What `opsverify run "dr or daily" --target A --target B -- ARGS` runs from `workdir` (see
    opsverify.run.pytest_command): `python -m pytest --rootdir=ROOT ... -m "dr or daily" --target=/abs/A ...`.

    A target that does not exist becomes the path it would have (for `--list`); starting refuses it.
    """
    return pytest_command(
        " or ".join(job.tiers) or ALL_TIERS,
        job.target,
        cwd=workdir,
        targets_dir=job_targets_dir(job, workdir),
        extra=job.args,
        python=python,
        require_targets=False,
    )


@dataclass(frozen=True)
class MissingTarget:
    """A job's target that names no existing file: where the schedule says it, and what was looked for."""

    key: KeyPath  # jobs.<name>.target (or .target[i])
    where: str  # file:line of that key
    spec: str  # as written: a name (prod) or a path
    named: bool  # a name looked up in targets_dir, not a path
    expected: Path  # the file a name resolves to (targets/prod.yaml), or the path as given
    targets_dir: Path
    reason: str  # TargetError's message

    @property
    def error(self) -> str:
        """The line that stops the scheduler: `file:line: jobs.x.target: target 'prod' not found: ...`."""
        return f"{self.where}: {format_path(self.key)}: {self.reason}"

    @property
    def shown(self) -> str:
        """The missing file, relative to the current folder when it is inside it (targets/prod.yaml)."""
        return shown_path(self.expected)

    def problem(self) -> str:
        """The `--list` line: what is missing, what exists, and both fixes (create it, or change the job)."""
        known = list_targets(self.targets_dir)
        folder = shown_path(self.targets_dir) + "/"
        found = f"{folder} has: {', '.join(known)}" if known else f"{folder} has no target files"
        what = f"target {self.spec!r}" if self.named else f"target file {self.spec}"
        return (
            f"{what} not found: no {self.shown} ({found}); create {self.shown}, or change "
            f"{format_path(self.key)} at {self.where}"
        )


def shown_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else as it is."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def job_targets_dir(job: Job, workdir: Path) -> Path:
    """Where the job's target names are: `--targets-dir` in its args, else OPSVERIFY_TARGETS_DIR (its env,
    then the scheduler's), else workdir/targets; relative to workdir."""
    given = job.env.get("OPSVERIFY_TARGETS_DIR") or os.environ.get("OPSVERIFY_TARGETS_DIR")
    for index, arg in enumerate(job.args):
        if arg == "--targets-dir" and index + 1 < len(job.args):
            given = job.args[index + 1]
        elif arg.startswith("--targets-dir="):
            given = arg.partition("=")[2]
    return workdir / given if given else workdir / "targets"


def missing_targets_of(name: str, job: Job, workdir: Path, source: SourceMap) -> list[MissingTarget]:
    """The job's targets that name no existing file: found at load time, not at 02:00."""
    targets_dir = job_targets_dir(job, workdir)
    missing: list[MissingTarget] = []
    for index, spec in enumerate(job.target):
        path = Path(spec)
        is_path = bool(path.suffix or "/" in spec)
        candidate = str(path if path.is_absolute() or not is_path else workdir / path)
        try:
            resolve_target_path(candidate, targets_dir)
        except TargetError as exc:
            key: KeyPath = (
                ("jobs", name, "target", index) if len(job.target) > 1 else ("jobs", name, "target")
            )
            expected = Path(candidate).expanduser() if is_path else targets_dir / f"{spec}.yaml"
            missing.append(
                MissingTarget(key, source.where(key), spec, not is_path, expected, targets_dir, str(exc))
            )
    return missing
