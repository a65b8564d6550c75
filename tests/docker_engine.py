"""A real Docker Engine for the tests, and small images built without a registry.

`DockerEngine.start(dir)` uses the engine of DOCKER_HOST (or /var/run/docker.sock) when one answers, else starts
`dockerd --data-root DIR --storage-driver overlay2 -H unix://DIR/docker.sock` (Debian's docker.io, as root) and
`stop()` ends it. overlay2 makes a container from an image without copying it (vfs copies the whole root
filesystem for every container: 2-25 s and a few hundred MB per database container here, against under
1 s); where the data root cannot hold overlay mounts, dockerd refuses overlay2 and the engine starts with vfs
(OPSVERIFY_TEST_DOCKER_STORAGE names one driver to use instead). Our dockerd gets a bridge interface of its own (`ovd<pid>`, a free /24 of 10.213.0.0/16) and
no iptables rules, so published ports work (docker-proxy) and parallel sessions do not share docker0. No registry is reachable, so images are imported from a root filesystem:
`import_rootfs(client, "name:tag", rootfs_dir, entrypoint=[...])`; `busybox_image(client)` builds one from
Debian's busybox-static, its tarball cached in ~/.cache/opsverify-test-images; tests/docker_images.py builds
PostgreSQL and MariaDB images the same way. Nothing here is specific to opsverify's checks.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

CACHE = Path(os.environ.get("OPSVERIFY_TEST_IMAGE_CACHE", "~/.cache/opsverify-test-images")).expanduser()
BUSYBOX = Path("/bin/busybox")
START_TIMEOUT = 60.0
# tried in this order: the first one dockerd starts with is used
STORAGE_DRIVERS = tuple(os.environ.get("OPSVERIFY_TEST_DOCKER_STORAGE", "overlay2,vfs").split(","))


def _answers(base_url: str) -> bool:
    if base_url.startswith("unix://"):
        # connect once ourselves first: the docker SDK leaks the socket of a refused connect
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.settimeout(2)
            probe.connect(base_url[len("unix://") :])
        except OSError:
            return False
        finally:
            probe.close()
    try:
        client = docker.DockerClient(base_url=base_url, timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return False
    return True


@dataclass
class DockerEngine:
    base_url: str  # unix:///…/docker.sock
    process: subprocess.Popen[bytes] | None  # None: an engine that was already running
    directory: Path | None = None
    bridge: str | None = None  # the bridge interface made for our dockerd

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.base_url, timeout=timeout)

    @classmethod
    def start(cls, directory: Path | None = None) -> DockerEngine:
        """The running engine (DOCKER_HOST, else /var/run/docker.sock), or a new dockerd of our own."""
        existing = os.environ.get("DOCKER_HOST") or (
            "unix:///var/run/docker.sock" if Path("/var/run/docker.sock").exists() else None
        )
        if existing and _answers(existing):
            return cls(existing, None)
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not os.path.exists(dockerd):
            raise RuntimeError("dockerd is missing: run `make system-deps` (Debian package docker.io)")
        # A short folder: unix socket paths (containerd's inside exec-root) are limited to 108 bytes.
        root = Path(tempfile.mkdtemp(prefix="ovd-", dir="/tmp")) if directory is None else directory
        root.mkdir(parents=True, exist_ok=True)
        refusals = []
        for driver in STORAGE_DRIVERS:
            engine, refusal = cls._start_dockerd(dockerd, root, driver)
            if engine is not None:
                return engine
            refusals.append(f"--storage-driver {driver}: {refusal}")
            unmount_under(root)
            for part in ("data", "exec", "docker.sock", "dockerd.pid"):  # a clean start for the next driver
                subprocess.run(["rm", "-rf", str(root / part)], check=False, timeout=120)
        raise RuntimeError("dockerd did not start:\n" + "\n".join(refusals))

    @classmethod
    def _start_dockerd(cls, dockerd: str, root: Path, driver: str) -> tuple[DockerEngine | None, str]:
        """Our dockerd with this storage driver, answering on root/docker.sock; else None and why not."""
        socket_path = root / "docker.sock"
        base_url = f"unix://{socket_path}"
        log = root / f"dockerd-{driver}.log"
        bridge = make_bridge()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    dockerd,
                    "--data-root", str(root / "data"),
                    "--exec-root", str(root / "exec"),
                    "--pidfile", str(root / "dockerd.pid"),
                    "--storage-driver", driver,
                    "-H", base_url,
                    # a bridge of our own (docker0 would be shared with any other engine on the machine) and
                    # no iptables: the host's firewall is left alone; published ports go through docker-proxy
                    "--bridge", bridge,
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                ],
                stdout=out,
                stderr=out,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                remove_bridge(bridge)
                return None, f"dockerd exited ({process.returncode}): {log.read_text()[-3000:]}"
            if socket_path.exists() and _answers(base_url):
                return cls(base_url, process, root, bridge), ""
            time.sleep(0.2)
        process.kill()
        process.wait(30)
        remove_bridge(bridge)
        return None, f"dockerd did not answer within {START_TIMEOUT:g}s: {log.read_text()[-3000:]}"

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            client = self.client(10)
            for container in client.containers.list(all=True):
                container.remove(force=True)
            client.close()
        except (docker.errors.DockerException, requests.RequestException):
            pass
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.bridge is not None:
            remove_bridge(self.bridge)
        if self.directory is not None:
            unmount_under(self.directory)  # what a dockerd that had to be killed left mounted (overlay2)
            subprocess.run(["rm", "-rf", "--one-file-system", str(self.directory)], check=False, timeout=120)


def unmount_under(root: Path) -> None:
    """Unmount every mount below root, deepest first (overlay layers, a container's shm), so that removing the
    folder removes only our files and never reaches through a mount."""
    prefix = str(root.resolve()) + "/"
    mounts = [
        line.split()[1].replace("\\040", " ")
        for line in Path("/proc/self/mounts").read_text().splitlines()
        if len(line.split()) > 1 and line.split()[1].startswith(prefix)
    ]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False, timeout=30)


BRIDGE_PREFIX = "ovd"
BRIDGE_NETWORKS = ipaddress.ip_network("10.213.0.0/16")
BRIDGE_LOCK = Path("/tmp/opsverify-docker-bridges.lock")


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)


def make_bridge() -> str:
    """A bridge interface `ovd<pid>` with a free /24 of 10.213.0.0/16, for one dockerd's containers.

    Bridges of test processes that are gone are removed first; a lock keeps parallel sessions from taking
    the same network."""
    with BRIDGE_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in _ip("-o", "link", "show", "type", "bridge").stdout.split("\n"):
            match = re.match(rf"\d+: ({BRIDGE_PREFIX}([0-9a-f]+))[:@]", name)
            if match and not Path(f"/proc/{int(match.group(2), 16)}").exists():
                _ip("link", "delete", match.group(1))
        used = [
            ipaddress.ip_network(word, strict=False)
            for word in _ip("-4", "-o", "addr", "show").stdout.split()
            if re.fullmatch(r"\d+\.\d+\.\d+\.\d+/\d+", word)
        ]
        free = [
            network
            for network in BRIDGE_NETWORKS.subnets(new_prefix=24)
            if not any(network.overlaps(other) for other in used)
        ]
        if not free:
            raise RuntimeError(f"no free /24 in {BRIDGE_NETWORKS} for a docker bridge")
        network = free[secrets.randbelow(len(free))]
        name = f"{BRIDGE_PREFIX}{os.getpid():x}"
        _ip("link", "delete", name)
        for args in (
            ("link", "add", name, "type", "bridge"),
            ("addr", "add", f"{network.network_address + 1}/{network.prefixlen}", "dev", name),
            ("link", "set", name, "up"),
        ):
            completed = _ip(*args)
            if completed.returncode != 0:
                _ip("link", "delete", name)
                raise RuntimeError(f"cannot make the docker bridge (ip {' '.join(args)}): {completed.stderr}")
    return name


def remove_bridge(name: str) -> None:
    _ip("link", "delete", name)


def rootfs_tarball(rootfs: Path) -> bytes:
    """A tar of a root filesystem folder (symlinks kept), as `docker import` reads it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(rootfs.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(rootfs)), recursive=False)
    return buffer.getvalue()


def import_rootfs(
    client: docker.DockerClient,
    reference: str,
    rootfs: Path | bytes,
    *,
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """`docker import` a root filesystem (a folder or a tarball's bytes) as `reference` (name:tag); returns it."""
    data = rootfs if isinstance(rootfs, bytes) else rootfs_tarball(rootfs)
    repository, _, tag = reference.partition(":")
    changes = []
    if entrypoint is not None:
        changes.append(f"ENTRYPOINT {json.dumps(list(entrypoint))}")
    if cmd is not None:
        changes.append(f"CMD {json.dumps(list(cmd))}")
    for key, value in (env or {}).items():
        changes.append(f"ENV {key}={value}")
    client.api.import_image_from_data(data, repository=repository, tag=tag or "latest", changes=changes)
    return f"{repository}:{tag or 'latest'}"


def busybox_rootfs(directory: Path) -> Path:
    """A root filesystem of Debian's static busybox: /bin/busybox and a link per applet, /tmp, /etc."""
    if not BUSYBOX.exists():
        raise RuntimeError("/bin/busybox is missing: run `make system-deps` (Debian package busybox-static)")
    (directory / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, directory / "bin" / "busybox")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True, timeout=30)
    for applet in applets.stdout.split():
        link = directory / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    for folder in ("tmp", "etc", "var/log", "proc", "sys", "dev"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    (directory / "tmp").chmod(0o1777)
    (directory / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (directory / "etc" / "group").write_text("root:x:0:\n")
    return directory


def busybox_image(client: docker.DockerClient, reference: str = "opsverify-test/busybox:latest") -> str:
    """The busybox image, imported once per engine; the rootfs tarball is cached outside the repository."""
    try:
        client.images.get(reference)
        return reference
    except docker.errors.ImageNotFound:
        pass
    digest = hashlib.sha256(BUSYBOX.read_bytes()).hexdigest()[:16] if BUSYBOX.exists() else "missing"
    cached = CACHE / f"busybox-rootfs-{digest}.tar"
    if not cached.exists():
        with tempfile.TemporaryDirectory() as temporary:
            data = rootfs_tarball(busybox_rootfs(Path(temporary)))
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(cached)
    return import_rootfs(client, reference, cached.read_bytes(), cmd=["/bin/sh"])
