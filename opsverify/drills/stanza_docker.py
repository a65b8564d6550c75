"""The pgBackRest drill in the `docker` sandbox: one container of `restore.image` (PostgreSQL of the backup's
major version and pgbackrest), the stanza's config and posix repositories bind-mounted read-only at their
paths on this machine, `pgbackrest restore` run inside it into a data directory on an anonymous volume,
PostgreSQL started there on a published port, recovery (pgBackRest's `archive-get` restore_command, inside
the container) awaited as in the local sandbox; teardown removes the container with its volumes.

The engine is `opsverify.connect.docker.engine_client`'s (`restore.docker_host`, else DOCKER_HOST). The
container is labelled as the dump drills' sandboxes are, so one left by a killed drill is reaped by the next
docker drill. Inside, pgBackRest and PostgreSQL run as the owner of the repository on this machine (the
files are theirs; a root-owned repository: the image's postgres user). Secrets (PGBACKREST_* variables)
reach pgbackrest and the server only through the exec's environment, never a command line.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from pathlib import PurePosixPath
from typing import Any

from opsverify.backups.sources.tool_run import error_lines
from opsverify.drills.docker import API_TIMEOUT, LABEL, PING_TIMEOUT, _engine, _short, ensure_image
from opsverify.drills.restore import RestoreResult
from opsverify.drills.sandbox import Sandbox, SandboxError, SandboxUnavailable
from opsverify.drills.stanza import _NO_SPACE, RECOVERY_SETTINGS, RecoveryWatch, StanzaRestore
from opsverify.drills.stanza_mounts import MountProblem, StanzaMounts, stanza_mounts
from opsverify.units import format_size

WORK = PurePosixPath("/var/lib/opsverify-drill")
DATA = WORK / "data"
PORT = 5432
SHM_SIZE = "256m"  # PostgreSQL's dynamic shared memory is in /dev/shm: the engine's default (64 MB) is small
HBA = "local all all trust\nhost all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n"
# PID 1 of the container: nothing but waiting (the image's entrypoint would start a server of its own)
IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]
# Run as root first: the image has pgbackrest and the backup's PostgreSQL, the folders are the run user's
# (who gets a passwd/group line when the image has none for the uid: pgBackRest and initdb-era tools ask).
PREPARE = r"""
set -u
version=$1 owner=$2 work=$3
command -v pgbackrest >/dev/null 2>&1 || { echo "NO-PGBACKREST"; exit 0; }
PATH="/usr/lib/postgresql/$version/bin:$PATH"
command -v pg_ctl >/dev/null 2>&1 || { echo "NO-PG_CTL"; exit 0; }
if [ "$owner" = "postgres" ]; then
    owner="$(id -u postgres 2>/dev/null):$(id -g postgres 2>/dev/null)"
    [ "$owner" = ":" ] && { echo "NO-POSTGRES-USER"; exit 0; }
fi
uid=${owner%:*} gid=${owner#*:}
grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd || echo "opsverify-drill:x:$uid:$gid::$work:/bin/sh" >> /etc/passwd
grep -q "^[^:]*:[^:]*:$gid:" /etc/group || echo "opsverify-drill:x:$gid:" >> /etc/group
mkdir -p "$work/data" "$work/tablespaces" "$work/lock" "$work/spool" && chmod 700 "$work/data" "$work/tablespaces" &&
    chown -R "$uid:$gid" "$work" || exit 1
found=$(pg_ctl --version 2>/dev/null | grep -Eo '[0-9]+(\.[0-9]+)?' | head -n 1)
echo "READY $uid:$gid $(dirname "$(command -v pg_ctl)") ${found:-unknown} $(pgbackrest version)"
"""
CONFIGS = (
    'printf "%s" "$1" > "$2/pg_hba.conf" && : > "$2/pg_ident.conf" && '
    '{ [ -e "$2/data/postgresql.conf" ] || : > "$2/data/postgresql.conf"; }'
)


def _major(version: str) -> str:
    """15.10 -> 15, 9.6.24 -> 9.6 (before 10 the major version has two parts)."""
    parts = version.split(".")
    return ".".join(parts[:2]) if parts[0].isdigit() and int(parts[0]) < 10 else parts[0]


def _image_fix(image: str, version: str) -> str:
    return (
        f"set restore.image to an image with PostgreSQL {version} and pgbackrest (e.g. one built FROM "
        f"postgres:{version} with `apt-get install -y pgbackrest`); {image} is not one"
    )


class StanzaContainer(Sandbox, RecoveryWatch):
    """A PostgreSQL cluster restored by pgBackRest inside a container, reached on a published port."""

    kind = "docker"
    disposable = True
    archive_get_fix = (
        "the server could not fetch WAL with `pgbackrest archive-get` inside the container: the repository and "
        "config must be readable there by the owner of the repository (see the log line)"
    )

    def __init__(self, image: str, docker_host: str | None = None, version: str = "") -> None:
        self.image = image
        self.docker_host = docker_host
        self.version = version or "15"
        self.name = f"opsverify-drill-{secrets.token_hex(6)}"
        self.client: Any = None
        self.container: Any = None
        self.host, self.port = "127.0.0.1", 0
        self.user = ""  # uid:gid of the repository's owner
        self.tool = ""  # the image's `pgbackrest version`
        self.user_is = ""  # who that is, for messages
        self.bindir = PurePosixPath("/usr/lib/postgresql") / self.version / "bin"
        self.mounts: StanzaMounts | None = None
        self.environment = {k: v for k, v in os.environ.items() if k.startswith("PGBACKREST_")}

    @property
    def admin_url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def describe(self) -> str:
        return f"restored cluster {self.host}:{self.port} (container {self.name}, {self.image})"

    def start(self) -> None:
        raise NotImplementedError("prepare(), restore(), start_server()")

    # -- the container ---------------------------------------------------------------------------------------

    def prepare(self, stanza: str, config: str | None, repo: int | None) -> None:
        """The container started with the config and repositories mounted, its folders made; SandboxUnavailable
        naming the key and the fix when the engine, the image or a path is not right."""
        try:
            self.mounts = stanza_mounts(stanza, config, repo)
        except MountProblem as exc:
            raise SandboxUnavailable(str(exc)) from None
        self._local_engine()
        owner = self._owner(self.mounts)
        self.user_is = (
            f"the owner of {self.mounts.repositories[0]} here"
            if owner != "postgres"
            else "the image's postgres user"
        )
        reason, self.client = _engine(self.docker_host, PING_TIMEOUT)
        if self.client is None:
            raise SandboxUnavailable(f"{reason or 'no Docker engine'} (restore.sandbox: docker)")
        self.client.api.timeout = API_TIMEOUT
        self._ensure_image()
        self._create()
        done = self.exec(["/bin/sh", "-c", PREPARE, "prepare", self.version, owner, str(WORK)], "0", 120)
        self._prepared(done)

    def _local_engine(self) -> None:
        """The engine runs here: it mounts this machine's paths, and the restored server (trust logins) is
        published on this machine's 127.0.0.1 only."""
        from opsverify.connect.docker import engine_hostname

        host = engine_hostname(self.docker_host)
        if host is not None and host not in ("localhost", "127.0.0.1", "::1"):
            raise SandboxUnavailable(
                f"restore.docker_host {self.docker_host} is an engine on {host}: the pgBackRest drill's container "
                "mounts this machine's repository and config, and its restored server takes logins without a "
                "password, published on 127.0.0.1 only; point docker_host at this machine's engine "
                "(unix:///var/run/docker.sock), or run opsverify on the engine's machine"
            )

    def _owner(self, mounts: StanzaMounts) -> str:
        """uid:gid owning the (first) repository here, or `postgres` (the image's) when root owns it."""
        for path in mounts.repositories:
            with contextlib.suppress(OSError):
                found = os.stat(path)
                if found.st_uid != 0:
                    return f"{found.st_uid}:{found.st_gid}"
        return "postgres"

    def _ensure_image(self) -> None:
        fix = _image_fix(self.image, self.version).split("; ")[0]
        ensure_image(self.client, self.image, f"build or pull it on the engine, or {fix} (restore.image)")

    def _create(self) -> None:
        from docker.types import Mount

        assert self.mounts is not None
        mounts = [Mount(m.target, m.source, type="bind", read_only=True) for m in self.mounts.mounts]
        mounts.append(Mount(str(WORK), None, type="volume"))  # anonymous: removed with the container
        labels = {LABEL: f"{time.time():.0f}", f"{LABEL}.image": self.image, f"{LABEL}.kind": "pgbackrest"}
        try:
            self.container = self.client.containers.create(
                self.image,
                entrypoint=IDLE,
                command=[],
                name=self.name,
                labels=labels,
                mounts=mounts,
                ports={f"{PORT}/tcp": ("127.0.0.1",)},  # trust logins: this machine only
                user="0",
                shm_size=SHM_SIZE,
                detach=True,
            )
            self.container.start()
            published = self.client.api.port(self.container.id, PORT)
            self.port = int(published[0]["HostPort"])
        except Exception as exc:  # noqa: BLE001 - engine errors come in many types
            raise SandboxUnavailable(self._start_problem(exc)) from None

    def _start_problem(self, exc: Exception) -> str:
        text = _short(exc)
        if "bind source path does not exist" in text or "mount" in text.lower():
            return (
                f"cannot mount the pgBackRest config and repository into a container of {self.image} ({text}): "
                "the Docker engine must run on the machine holding them (restore.docker_host)"
            )
        return f"cannot start a container of {self.image}: {text}"

    def _prepared(self, done: tuple[int | None, bytes, bytes]) -> None:
        code, out, err = done
        words = out.decode(errors="replace").strip().splitlines()[-1:] or [""]
        line = words[0]
        fix = _image_fix(self.image, self.version)
        if line == "NO-PGBACKREST":
            raise SandboxUnavailable(f"the image {self.image} has no pgbackrest program: {fix}")
        if line == "NO-PG_CTL":
            raise SandboxUnavailable(
                f"the image {self.image} has no PostgreSQL server (pg_ctl, looked in {self.bindir} and PATH): {fix}"
            )
        if line == "NO-POSTGRES-USER":
            raise SandboxUnavailable(
                f"the repository is root's and the image {self.image} has no postgres user to run the server "
                "as: make the repository the postgres user's (as pgBackRest makes it), or use an image with one"
            )
        if code != 0 or not line.startswith("READY "):
            detail = (err or out).decode(errors="replace").strip().splitlines()[-3:]
            raise SandboxUnavailable(
                f"cannot prepare the drill's folders in the container of {self.image}: {' | '.join(detail)}"
            )
        _ready, self.user, bindir, found, *tool = line.split(" ")
        self.bindir, self.tool = PurePosixPath(bindir), " ".join(tool)
        if _major(found) != _major(self.version):
            raise SandboxUnavailable(
                f"the image {self.image} has PostgreSQL {found} (pg_ctl in {bindir}) but the backup is of "
                f"PostgreSQL {self.version}: {fix}"
            )

    def exec(
        self, argv: list[str], user: str, timeout: float, env: dict[str, str] | None = None
    ) -> tuple[int | None, bytes, bytes]:
        """`argv` run in the container as `user` with `env` (secrets: never in argv); (exit code, stdout,
        stderr), the exit code None when it did not end within `timeout` (the container's removal ends it)."""
        api = self.client.api
        result: list[Any] = []

        def run() -> None:
            try:
                exec_id = api.exec_create(
                    self.container.id, argv, user=user, environment=env or {}, workdir="/"
                )["Id"]
                out, err = api.exec_start(exec_id, demux=True)
                result.append((api.exec_inspect(exec_id).get("ExitCode"), out or b"", err or b""))
            except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
                result.append(exc)

        api.timeout = max(API_TIMEOUT, int(timeout) + 30)  # the exec's output may come only at its end
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout)
        if not result:
            return None, b"", b""
        api.timeout = API_TIMEOUT
        if isinstance(result[0], Exception):
            raise SandboxError(f"exec in the container of {self.image} failed: {_short(result[0])}")
        code, out, err = result[0]
        return code, out, err

    # -- restore, start, recovery ----------------------------------------------------------------------------

    def restore(self, settings: StanzaRestore, size: int) -> RestoreResult:
        """`pgbackrest restore` in the container into its data directory (as the repository's owner)."""
        result = RestoreResult("pgbackrest", settings.describe())
        arguments = settings.arguments(DATA, WORK / "tablespaces")
        arguments.insert(-1, f"--lock-path={WORK}/lock")  # the config's lock folder is on a read-only mount
        started = time.monotonic()
        try:
            done = self.exec(["pgbackrest", *arguments], self.user, settings.timeout, self.environment)
        finally:
            result.seconds = time.monotonic() - started
        if not self.judge_restore(result, settings, size, done):
            return result
        done = self.exec(["/bin/sh", "-c", CONFIGS, "configs", HBA, str(WORK)], self.user, 60)
        if done[0] != 0:
            result.error = f"cannot write the drill's pg_hba.conf in the container: {done[2].decode(errors='replace')[:300]}"
        return result

    def _restore_error(self, text: str, size: int) -> str:
        if any(mark in text for mark in _NO_SPACE):
            return self.disk_full(size)
        if "[13]" in text or "Permission denied" in text:
            return (
                f"pgbackrest restore in the container cannot read the repository or config (it runs as uid:gid "
                f"{self.user}, {self.user_is}): {error_lines(text)}; make the repository and pgbackrest.config "
                "that user's, as pgBackRest keeps them (the repository owned by the postgres user, mode 0750)"
            )
        if "unable to open missing file" in text or "does not exist" in text:
            return (
                f"pgbackrest restore failed in the container: {error_lines(text)}; the config and repository "
                "are mounted at their paths on this machine: check pgbackrest.config, the stanza and repoN-path"
            )
        return f"pgbackrest restore failed in the container: {error_lines(text)}"

    def disk_full(self, size: int) -> str:
        done = self.exec(["df", "-Pk", str(WORK)], "0", 30) if self.container is not None else (1, b"", b"")
        room = "free space unknown"
        rows = done[1].decode(errors="replace").splitlines()
        if done[0] == 0 and len(rows) > 1 and len(rows[1].split()) > 3:
            fields = rows[1].split()
            room = f"{format_size(int(fields[3]) * 1024)} free of {format_size(int(fields[1]) * 1024)}"
        return (
            f"the restore ran out of disk space in the container's volume ({room}, on the Docker engine's "
            f"data root); {'the database is ' + format_size(size) + ' and ' if size else ''}recovery adds WAL: "
            "free space on the engine's disk (docker system df), or use the local sandbox with "
            "pgbackrest.work_dir on a filesystem with room"
        )

    def start_server(self, timeout: float) -> None:
        """pg_ctl start in the container, waiting until the server accepts connections (consistency)."""
        options = RECOVERY_SETTINGS.replace("listen_addresses=127.0.0.1", "listen_addresses='*'")
        options += (
            f" -c hba_file={WORK}/pg_hba.conf -c ident_file={WORK}/pg_ident.conf -c data_directory={DATA}"
            f" -p {PORT} -c unix_socket_directories={WORK}"
        )
        command = [str(self.bindir / "pg_ctl"), "-D", str(DATA), "-l", f"{WORK}/server.log"]
        command += ["-w", "-t", str(int(timeout)), "-o", options, "start"]
        # the server's archive-get reads these over the config's (whose folders are not in the container, or
        # read-only there): an asynchronous archive-get (archive-async=y) spools WAL into the container
        env = {
            **self.environment,
            "PGBACKREST_SPOOL_PATH": f"{WORK}/spool",
            "PGBACKREST_LOCK_PATH": f"{WORK}/lock",
        }
        code, out, err = self.exec(command, self.user, timeout + 30, env)
        if code != 0:
            said = (err or out).decode(errors="replace").strip().splitlines()[-1:]
            what = "pg_ctl start did not finish in time" if code is None else "pg_ctl start failed"
            what += f" ({said[0][:200]})" if said else ""
            raise SandboxError(self._server_failure(what))

    def server_log_tail(self, lines: int = 5) -> str:
        if self.container is None:
            return ""
        try:
            code, out, _err = self.exec(["tail", "-n", str(lines), f"{WORK}/server.log"], "0", 30)
        except SandboxError:
            return ""
        return out.decode(errors="replace").strip() if code == 0 else ""

    def _running(self) -> bool:
        try:
            code, _out, _err = self.exec(
                [str(self.bindir / "pg_ctl"), "status", "-D", str(DATA)], self.user, 30
            )
        except SandboxError:
            return False
        return code == 0

    def stop(self) -> None:
        """Remove the container and its anonymous volumes (by name when its creation was cut short)."""
        container, self.container = self.container, None
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # teardown goes on; the next docker drill reaps what is left
            client.api.timeout = API_TIMEOUT
            client.api.remove_container(
                container.id if container is not None else self.name, force=True, v=True
            )
        with contextlib.suppress(Exception):
            client.close()

    def describe_mounts(self) -> str:
        """What the container was given, for the evidence: `pgBackRest 2.45; config …, repository 1 … mounted
        read-only`, and the repositories it reaches over the network."""
        assert self.mounts is not None
        mounted = ", ".join(f"{m.what} {m.target}" for m in self.mounts.mounts)
        network = f"; {', '.join(self.mounts.network)} over the network" if self.mounts.network else ""
        return f"{self.tool or 'pgBackRest'}; {mounted} mounted read-only{network}"
