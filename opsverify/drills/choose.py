"""Picking the drill's sandbox: `url` (a scratch server), `docker`, `local`, or `auto` (the first that starts)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from opsverify.drills.docker import DockerSandbox
from opsverify.drills.local import LocalSandbox
from opsverify.drills.sandbox import (
    Sandbox,
    SandboxUnavailable,
    ScratchServer,
    ServerAddress,
    admin_connect,
    first_line,
)


class UrlSandbox(ScratchServer):
    """An existing scratch server reached through an admin URL; drill databases are created on it."""

    def start(self) -> None:
        try:
            with admin_connect(self._url) as connection:
                connection.execute("select 1")
        except psycopg.Error as exc:
            raise SandboxUnavailable(
                f"cannot connect to sandbox_url {ServerAddress.of(self._url)}: {first_line(exc)}"
            ) from None


def make_sandboxes(
    kind: str,
    *,
    sandbox_url: str | None,
    image: str | None,
    server_bin: str | None,
    dumped_from: str | None,
    docker_host: str | None = None,
) -> list[tuple[str, Callable[[], Sandbox]]]:
    """The candidates to try, in order: one for an explicit kind, url/docker/local for `auto`."""
    makers: dict[str, Callable[[], Sandbox]] = {
        "docker": lambda: DockerSandbox(dumped_from, image, docker_host),
        "local": lambda: LocalSandbox(server_bin, dumped_from),
    }
    if sandbox_url:
        makers = {"url": lambda: UrlSandbox(sandbox_url), **makers}
    if kind == "auto":
        return list(makers.items())
    return [(kind, makers[kind])]


def start_sandbox(
    candidates: list[tuple[str, Callable[[], Sandbox]]], auto: bool
) -> tuple[Sandbox, list[str]]:
    """Start the first candidate that works; returns it and the reasons the earlier ones did not."""
    reasons: list[str] = []
    for kind, make in candidates:
        sandbox = make()
        try:
            sandbox.start()
        except SandboxUnavailable as exc:
            sandbox.stop()
            reasons.append(f"{kind}: {exc}")
            continue
        return sandbox, reasons
    if auto:
        tried = {kind for kind, _ in candidates}
        if "url" not in tried:
            reasons.insert(0, "url: restore.sandbox_url is not set")
        raise SandboxUnavailable(
            "no sandbox available for the drill (sandbox: auto tries url, docker, local):\n  - "
            + "\n  - ".join(reasons)
            + "\n  set restore.sandbox_url to the admin URL of a scratch server, start Docker, or install the "
            "PostgreSQL server binaries (apt-get install postgresql-15) for a local sandbox"
        )
    raise SandboxUnavailable(reasons[0] if reasons else "no sandbox")
