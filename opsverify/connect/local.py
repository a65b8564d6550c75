"""The machine opsverify runs on (`via: local`, the default)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Sequence
from typing import IO

from opsverify.connect.base import MAX_OUTPUT, CommandResult, ConnectError, FileStat, mode_is_dir


class LocalConnection:
    where = "this machine"
    is_local = True

    def run(self, command: Sequence[str] | str, timeout: float) -> CommandResult:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConnectError(f"cannot run {shlex.join(argv)[:200]}: {exc.strerror or exc}") from exc
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            stdout, stderr = process.communicate()
            timed_out = True
        truncated = len(stdout) > MAX_OUTPUT or len(stderr) > MAX_OUTPUT
        return CommandResult(
            None if timed_out else process.returncode,
            stdout[:MAX_OUTPUT],
            stderr[:MAX_OUTPUT],
            time.monotonic() - started,
            timed_out,
            truncated,
        )

    def open(self, path: str) -> IO[bytes]:
        try:
            return open(path, "rb")
        except OSError as exc:
            raise ConnectError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def stat(self, path: str) -> FileStat | None:
        try:
            result = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConnectError(f"cannot stat {path}: {exc.strerror or exc}") from exc
        return FileStat(path, result.st_size, result.st_mtime, mode_is_dir(result.st_mode))

    def listdir(self, path: str) -> list[FileStat]:
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConnectError(f"cannot list {path}: {exc.strerror or exc}") from exc
        entries = [self.stat(os.path.join(path, name)) for name in sorted(names)]
        return [entry for entry in entries if entry is not None]

    def close(self) -> None:
        pass
