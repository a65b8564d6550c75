"""`opsverify demo`: start a local EmailOps-like deployment, run a tier of targets/demo.yaml against it
(`pytest -m daily --target demo`), say where the report is, stop the deployment, exit with pytest's code.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from opsverify.config.types import TIERS
from opsverify.demo.data import FAILURES, DemoLayout, build
from opsverify.demo.server import DemoServer
from opsverify.paths import reports_dir

HELP = "run the embedded demo: a local EmailOps-like deployment checked by targets/demo.yaml"
MARKER = ".opsverify-demo"  # marks a folder the demo created, so only such a folder is ever replaced
EXIT_MEANING = {
    0: "all checks passed",
    1: "some checks failed (see the messages above)",
    2: "the run was interrupted",
    3: "pytest hit an internal error",
    4: "usage or target-file error (see the message above)",
    5: "no checks were selected",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""
    parser.add_argument("--tier", default="daily", choices=TIERS, help="tier to run (default: daily)")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the deployment's files, recreated on each run (default: reports/demo)",
    )
    parser.add_argument(
        "--unhealthy",
        nargs="?",
        const="healthcheck",
        default=None,
        choices=tuple(FAILURES),
        help="start the deployment in a failure state (default: healthcheck), to see a failing check: "
        + ", ".join(f"{f.name} fails {f.check}" for f in FAILURES.values()),
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="only start the deployment and keep it running until Ctrl-C (run pytest yourself meanwhile)",
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments, after --")


DEMO_TARGET = Path(__file__).resolve().with_name("demo.yaml")  # shipped in the package


def project_root() -> Path:
    """Where the demo writes reports/: the opsverify source tree when run from it, else the current folder."""
    source = Path(__file__).resolve().parents[2]
    return source if (source / "targets" / "demo.yaml").is_file() else Path.cwd()


def prepare_home(home: Path) -> None:
    """Create an empty demo folder; replace it only when an earlier demo run created it."""
    if home.exists():
        if not (home / MARKER).is_file() and any(home.iterdir()):
            raise SystemExit(f"{home} exists and was not created by `opsverify demo`; choose another --home")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("created by `opsverify demo`; replaced on the next run\n", encoding="utf-8")


def demo_environment(layout: DemoLayout, url: str) -> dict[str, str]:
    """The variables targets/demo.yaml reads (`${DEMO_URL}`, ...)."""
    return {
        "DEMO_URL": url,
        "DEMO_HOME": str(layout.home),
        "DEMO_DATA": str(layout.data),
        "DEMO_DB": str(layout.database),
        "DEMO_LOGS": str(layout.logs),
        "DEMO_BACKUPS": str(layout.backups),
    }


def write_env_file(path: Path, environment: dict[str, str]) -> None:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]
    path.write_text(
        "# the demo deployment's environment; `. demo.env` in a shell\n" + "\n".join(lines) + "\n"
    )


def run(args: argparse.Namespace) -> int:
    root = project_root()
    reports = reports_dir(root)
    home = (args.home or reports / "demo").resolve()
    prepare_home(home)
    layout = build(home, failure=args.unhealthy)
    try:
        server = DemoServer(layout, healthy=args.unhealthy != "healthcheck").start()
    except RuntimeError as exc:  # the service did not answer its first request
        print(f"opsverify demo: {exc}", file=sys.stderr)
        return 1
    try:
        environment = demo_environment(layout, server.url)
        write_env_file(layout.env_file, environment)
        print(f"opsverify demo: an EmailOps-like deployment is up at {server.url} (/healthz, /metrics)")
        print(f"  files:   {home} (data/emailops.db, data/logs/app.log, backups/backup-*.tar.gz)")
        print(f"  env:     {layout.env_file} (DEMO_URL, DEMO_DATA, ...; targets/demo.yaml reads them)")
        if args.unhealthy is not None:
            failure = FAILURES[args.unhealthy]
            print(f"  unhealthy ({failure.name}): {failure.what}; expect {failure.check} to fail")
        target = demo_target(root, home)
        if args.serve:
            return serve(layout, target)
        return run_checks(root, target, reports, args.tier, environment, strip_separator(args.pytest_args))
    finally:
        server.stop()
        print("opsverify demo: deployment stopped")


def strip_separator(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def demo_target(root: Path, home: Path) -> Path:
    """targets/demo.yaml of the source tree, else a copy of the shipped target in the demo's folder (so test ids
    read `reports/demo/demo.yaml::http:healthcheck`, not a path into site-packages)."""
    source = root / "targets" / "demo.yaml"
    if source.is_file():
        return source
    copy = home / "demo.yaml"
    shutil.copyfile(DEMO_TARGET, copy)
    return copy


def serve(layout: DemoLayout, target: Path) -> int:
    print(f"\nin another shell:  . {layout.env_file} && pytest -m smoke --target={target}")
    print("press Ctrl-C to stop the deployment", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print()
    return 0


def run_checks(
    root: Path, target: Path, reports: Path, tier: str, environment: dict[str, str], extra: list[str]
) -> int:
    """`pytest -m TIER --target=<the shipped demo target>`, run in `root` (works from an installed opsverify)."""
    command = [sys.executable, "-m", "pytest", "-m", tier, f"--target={target}", str(target)]
    command += [f"--junitxml={reports / 'junit.xml'}", f"--alluredir={reports / 'allure-results'}"]
    command += ["--clean-alluredir", *extra]
    print(f"\nrunning: pytest -m {tier} --target demo {' '.join(extra)}".rstrip(), flush=True)
    completed = subprocess.run(command, cwd=root, env={**os.environ, **environment}, check=False)
    code = completed.returncode
    print(f"\nopsverify demo: exit code {code}: {EXIT_MEANING.get(code, 'unexpected exit code')}")
    print("reports:")
    print(f"  JUnit XML       {reports / 'junit.xml'}")
    print(f"  Allure results  {reports / 'allure-results'}   (HTML: `opsverify report` or `make report`)")
    if (reports / "summary.json").is_file():
        print(f"  run summary     {reports / 'summary.json'}")
    return code
