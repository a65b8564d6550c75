"""An OpenSSH server for the tests: Debian's sshd on a free loopback port, with generated host and user keys
and no password login. `SshServer.start(dir)` returns a running server; `.stop()` ends it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "opsverify-test", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


@dataclass
class SshServer:
    directory: Path
    port: int
    user: str
    host_key: Path  # the server's private host key (its .pub beside it)
    user_key: Path  # a private key the server accepts
    known_hosts: Path  # a known_hosts file with the server's real key
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    @classmethod
    def start(cls, directory: Path, forced_command: str | None = None) -> SshServer:
        """A server on a free loopback port; with `forced_command`, the user key runs only that command
        (authorized_keys `command=`), whatever the client asks for."""
        if not os.path.exists(SSHD):
            raise RuntimeError("sshd is missing: run `make system-deps` (Debian package openssh-server)")
        directory.mkdir(parents=True, exist_ok=True)
        host_key = keygen(directory / "host_ed25519")
        user_key = keygen(directory / "user_ed25519")
        authorized = directory / "authorized_keys"
        options = f'command="{forced_command}",no-pty ' if forced_command else ""
        authorized.write_text(options + (directory / "user_ed25519.pub").read_text())
        authorized.chmod(0o600)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        config = directory / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {directory / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",
                    "LogLevel ERROR",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        known = directory / "known_hosts"
        public = (directory / "host_ed25519.pub").read_text().split()
        known.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
        with (directory / "sshd.log").open("wb") as log:
            process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(directory / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"SSH"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            process.kill()
            raise RuntimeError("sshd did not listen within 15 s")
        import getpass

        return cls(directory, port, getpass.getuser(), host_key, user_key, known, process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
