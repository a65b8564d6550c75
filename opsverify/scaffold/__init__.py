"""`opsverify init [DIR]`: scaffold an ops repository in DIR (default: the current folder).

It writes targets/example.yaml (a commented example target), checks/ (a README and an example of a
hand-written check that runs only once renamed to test_*.py), a pytest.ini that pins pytest's rootdir and
lets `opsverify run` find the repository, a .gitignore for reports/, and ci/ (the scheduler, deploy gate,
GitHub, GitLab, Kubernetes, systemd and compose templates). It never overwrites a file: if any of them
exists, it lists them all and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

HELP = "scaffold an ops repository: targets/example.yaml, checks/, pytest.ini, .gitignore, ci/ templates"
PACKAGE = Path(__file__).resolve().parent
# Packaged folders and where their files go: files/ is the repository's top, ci/ its ci/ folder (the
# same ci/ the opsverify repository links to, so the templates have one source).
SOURCES = {"files": "", "ci": "ci/"}
RENAMED = {"gitignore": ".gitignore"}  # a packaged dotfile would be left out of the wheel
SKIPPED_NAMES = {"__pycache__"}
EXISTS_EXIT = 1


def scaffold_files() -> list[tuple[Path, str]]:
    """(packaged file, path relative to the new repository) for every file `opsverify init` writes."""
    files: list[tuple[Path, str]] = []
    for folder, prefix in SOURCES.items():
        base = PACKAGE / folder
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(base)
            if path.is_dir() or SKIPPED_NAMES & set(relative.parts) or path.suffix == ".pyc":
                continue
            name = RENAMED.get(relative.as_posix(), relative.as_posix())
            files.append((path, prefix + name))
    return sorted(files, key=lambda item: item[1])


def conflicts(folder: Path, destinations: list[str]) -> list[str]:
    """The destinations that exist already in `folder`, or whose folder is a file there."""
    found: list[str] = []
    for relative in destinations:
        path = folder / relative
        if path.exists() or path.is_symlink():
            found.append(relative)
            continue
        blocking = next((p for p in reversed(path.parents) if p.is_relative_to(folder) and p.is_file()), None)
        if blocking is not None:
            found.append(f"{blocking.relative_to(folder)} (a file, where init writes a folder)")
    return sorted(set(found))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""
    parser.add_argument(
        "directory",
        nargs="?",
        default=".",
        metavar="DIR",
        help="folder of the new ops repository (default: the current folder; created when missing)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the scaffold; 0 written, 1 a file exists already (nothing written) or DIR cannot be written."""
    folder = Path(os.path.abspath(Path(args.directory).expanduser()))
    if folder.exists() and not folder.is_dir():
        print(
            f"error: {folder} is a file; pass a folder (new or existing) to `opsverify init`", file=sys.stderr
        )
        return EXISTS_EXIT
    plan = scaffold_files()
    existing = conflicts(folder, [relative for _, relative in plan]) if folder.is_dir() else []
    if existing:
        listed = "\n".join(f"  {name}" for name in existing)
        print(
            f"error: opsverify init: {folder} has files of its own where init writes; nothing was "
            f"written (init never overwrites):\n{listed}\n"
            "  move or rename them, or run `opsverify init NEW_FOLDER` and copy what you need",
            file=sys.stderr,
        )
        return EXISTS_EXIT
    written: list[str] = []
    try:
        for source, relative in plan:
            destination = folder / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(destination, "xb") as handle:  # "x": fails rather than overwrite
                handle.write(source.read_bytes())
            if destination.suffix == ".sh":
                destination.chmod(0o755)
            written.append(relative)
    except OSError as exc:
        done = f"; written before it: {', '.join(written)}" if written else "; nothing was written"
        print(
            f"error: opsverify init: {exc.filename or folder}: {exc.strerror or exc}{done}", file=sys.stderr
        )
        return EXISTS_EXIT
    print(f"opsverify init: wrote an ops repository in {folder}:")
    for relative in written:
        print(f"  {relative}")
    here = Path(os.path.abspath(Path.cwd()))
    steps = [] if folder == here else [f"cd {shlex.quote(os.path.relpath(folder, here))}"]
    steps += ["opsverify validate example", "opsverify run smoke --target example"]
    print("\nnext steps (edit targets/example.yaml first, or copy it to targets/<env>.yaml):")
    for step in steps:
        print(f"  {step}")
    print("checks/example_revision_check.py is an example of your own check: edit it, then rename it to")
    print("checks/test_revision.py to run it; ci/README.md lists the scheduler and CI templates.")
    return 0
