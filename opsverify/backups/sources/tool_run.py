"""Running a backup tool's CLI (restic, borg, pgbackrest): secrets only in its environment, a timeout on every
call, and the tool's own failure text turned into a SourceError naming the fix."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opsverify.backups.sources.base import SourceError


@dataclass(frozen=True)
class Tool:
    """One backup tool: its program, the Debian package that has it, and its secrets' variables."""

    program: str
    package: str
    secret_env: tuple[str, ...] = ()

    def resolve(self, configured: str | None) -> str:
        """The program's path; SourceError naming the package when it is not installed."""
        wanted = configured or self.program
        found = shutil.which(wanted)
        if found is None:
            raise SourceError(
                f"{self.program} is not installed (no `{wanted}` on PATH): install the Debian package "
                f"{self.package} (`apt-get install {self.package}`), or set `bin` to its path"
            )
        return found


def run_tool(
    tool: Tool,
    program: str,
    args: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    what: str,
    stdout: int | None = subprocess.PIPE,
) -> subprocess.CompletedProcess[bytes]:
    """Run `program args` with `env` added to this process's environment (secrets go there, never in argv)
    and no stdin (a tool must not wait on a prompt). SourceError when it cannot start or times out."""
    full_env = {**os.environ, **env}
    try:
        return subprocess.run(
            [program, *args],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(
            f"{tool.program} {args[0] if args else ''} ({what}) did not finish within {timeout:g}s: "
            "raise `timeout` of the entry, or check that the repository answers"
        ) from None
    except OSError as exc:
        raise SourceError(f"{tool.program} could not be started ({exc.strerror}): is `bin` right?") from None


def output_text(data: bytes, secrets: Sequence[str] = ()) -> str:
    """A tool's output as text with every secret value masked (they never reach a message)."""
    text = data.decode("utf-8", errors="replace").strip()
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_lines(text: str, limit: int = 4) -> str:
    """The lines of a tool's output that say what went wrong (at most `limit`), joined for one message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    wanted = [
        line
        for line in lines
        if any(word in line.lower() for word in ("error", "fatal", "fail", "invalid", "does not", "missing"))
    ]
    return "; ".join((wanted or lines)[:limit]) or "no output"
