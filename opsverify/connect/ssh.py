"""A machine reached over SSH (`via: ssh://user@host[:port]`), with paramiko.

Host keys are verified against known_hosts (the user's ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts, or
`known_hosts:`): an unknown host or a changed key fails closed with the fix. `insecure_skip_host_key: true`
accepts any key (never saved). Keys: `identity_file:`, else ssh-agent and ~/.ssh/id_*.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import paramiko

from opsverify.connect.base import MAX_OUTPUT, CommandResult, ConnectError, FileStat, mode_is_dir


class SshConnection:
    is_local = False

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None,
        *,
        timeout: float,
        identity: str | None = None,
        passphrase: str | None = None,
        known_hosts: Path | None = None,
        insecure_skip_host_key: bool = False,
    ) -> None:
        self.host, self.port, self.user, self.timeout = host, port, user, timeout
        self.where = f"{user + '@' if user else ''}{host}{'' if port == 22 else f':{port}'}"
        self.client = paramiko.SSHClient()
        self._sftp: paramiko.SFTPClient | None = None
        if insecure_skip_host_key:
            self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
            files = [known_hosts] if known_hosts else [Path("~/.ssh/known_hosts").expanduser()]
            if known_hosts is None:
                self._load_system_keys(Path("/etc/ssh/ssh_known_hosts"))
            for file in files:
                if known_hosts is not None and not file.is_file():
                    raise ConnectError(
                        f"known_hosts file {file} does not exist; point `known_hosts:` at the file holding "
                        f"{self.where}'s host key (ssh-keyscan -p {port} {host} > FILE, then check the fingerprint)"
                    )
                if file.is_file():
                    try:
                        self.client.load_host_keys(str(file))
                    except (OSError, paramiko.SSHException) as exc:
                        raise ConnectError(f"cannot read known_hosts file {file}: {exc}") from exc
        key = load_key(identity, passphrase) if identity is not None else None
        started = time.monotonic()
        try:
            self.client.connect(
                host,
                port=port,
                username=user,
                pkey=key,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                allow_agent=True,
                look_for_keys=identity is None,
            )
        except paramiko.BadHostKeyException as exc:
            self.client.close()
            raise ConnectError(
                f"the host key of {self.where} does not match known_hosts (got {exc.key.get_name()} "
                f"{exc.key.fingerprint}): the server was reinstalled or someone is in between. Check the "
                f"fingerprint with the server's admin; if the change is expected, remove the old key with "
                f"`ssh-keygen -R {self._known_hosts_name()}` and add the new one"
            ) from None
        except paramiko.AuthenticationException:
            self.client.close()
            raise ConnectError(
                f"authentication failed for {self.where}: no key was accepted; check `identity_file:` (or the "
                f"keys in ssh-agent) and that its public key is in ~{user or ''}/.ssh/authorized_keys there"
            ) from None
        except paramiko.SSHException as exc:
            self.client.close()
            text = str(exc)
            if "not found in known_hosts" in text:
                raise ConnectError(
                    f"{self.where} is not in known_hosts, so its identity cannot be verified; add its key: "
                    f"`ssh-keyscan -p {port} {host} >> ~/.ssh/known_hosts` and check the fingerprint "
                    f"(or set `known_hosts:` to a file holding it; `insecure_skip_host_key: true` turns "
                    f"verification off)"
                ) from None
            if time.monotonic() - started >= timeout * 0.9 or "banner" in text:
                raise ConnectError(f"no SSH answer from {self.where} within {timeout:g}s (timeout)") from None
            raise ConnectError(f"SSH to {self.where} failed: {text}") from None
        except TimeoutError:
            self.client.close()
            raise ConnectError(f"no SSH answer from {self.where} within {timeout:g}s (timeout)") from None
        except (ConnectionRefusedError, paramiko.ssh_exception.NoValidConnectionsError):
            self.client.close()
            raise ConnectError(
                f"connection refused by {self.where} (machine unreachable: is sshd running on port {port}?)"
            ) from None
        except (OSError, EOFError) as exc:
            self.client.close()
            raise ConnectError(
                f"cannot reach {self.where}: {getattr(exc, 'strerror', None) or exc}"
            ) from None

    def _known_hosts_name(self) -> str:
        return self.host if self.port == 22 else f"'[{self.host}]:{self.port}'"

    def _load_system_keys(self, path: Path) -> None:
        if path.is_file():
            with contextlib.suppress(OSError, paramiko.SSHException):
                self.client.load_system_host_keys(str(path))

    def run(self, command: Sequence[str] | str, timeout: float) -> CommandResult:
        text = command if isinstance(command, str) else shlex.join(command)
        started = time.monotonic()
        try:
            _stdin, stdout, _stderr = self.client.exec_command(text, timeout=timeout)
        except (paramiko.SSHException, OSError) as exc:
            raise ConnectError(f"cannot start the command on {self.where}: {exc}") from exc
        channel = stdout.channel
        channel.shutdown_write()
        out, err = bytearray(), bytearray()
        deadline = started + timeout
        while True:
            if channel.recv_ready():
                out += channel.recv(65536)
            elif channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
            elif channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                break
            elif time.monotonic() > deadline:
                channel.close()
                return CommandResult(None, bytes(out[:MAX_OUTPUT]), bytes(err[:MAX_OUTPUT]), timeout, True)
            else:
                time.sleep(0.01)
            if len(out) > 4 * MAX_OUTPUT or len(err) > 4 * MAX_OUTPUT:
                channel.close()
                break
        code = channel.recv_exit_status() if channel.exit_status_ready() else None
        truncated = len(out) > MAX_OUTPUT or len(err) > MAX_OUTPUT
        return CommandResult(
            code,
            bytes(out[:MAX_OUTPUT]),
            bytes(err[:MAX_OUTPUT]),
            time.monotonic() - started,
            False,
            truncated,
        )

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = self.client.open_sftp()
                self._sftp.get_channel().settimeout(self.timeout)  # type: ignore[union-attr]
            except (paramiko.SSHException, OSError) as exc:
                raise ConnectError(
                    f"SFTP to {self.where} failed: {exc} (is the sftp subsystem enabled?)"
                ) from exc
        return self._sftp

    def open(self, path: str) -> IO[bytes]:
        try:
            handle = self.sftp.open(path, "rb")
            handle.prefetch()
            return handle  # type: ignore[return-value]
        except OSError as exc:
            raise ConnectError(f"cannot read {path} on {self.where}: {exc.strerror or exc}") from exc

    def stat(self, path: str) -> FileStat | None:
        try:
            attrs = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConnectError(f"cannot stat {path} on {self.where}: {exc.strerror or exc}") from exc
        return FileStat(path, attrs.st_size or 0, float(attrs.st_mtime or 0), mode_is_dir(attrs.st_mode))

    def listdir(self, path: str) -> list[FileStat]:
        try:
            entries = self.sftp.listdir_attr(path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConnectError(f"cannot list {path} on {self.where}: {exc.strerror or exc}") from exc
        return sorted(
            (
                FileStat(
                    f"{path.rstrip('/')}/{attrs.filename}",
                    attrs.st_size or 0,
                    float(attrs.st_mtime or 0),
                    mode_is_dir(attrs.st_mode),
                )
                for attrs in entries
            ),
            key=lambda entry: entry.path,
        )

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        self.client.close()


def load_key(text: str, passphrase: str | None) -> paramiko.PKey:
    """A private key from its text (OpenSSH or PEM; Ed25519, ECDSA or RSA)."""
    data = text if text.endswith("\n") else text + "\n"
    failure = ""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(data), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ConnectError(
                "the SSH identity is encrypted; load it into ssh-agent, or set `passphrase:` "
                "(from a secret: passphrase_file: or ${VAR})"
            ) from None
        except (paramiko.SSHException, ValueError) as exc:
            failure = str(exc)
    raise ConnectError(
        f"the SSH identity is not a private key paramiko reads (Ed25519, ECDSA or RSA): {failure[:100]}; "
        "check `identity_file:`, or a wrong `passphrase:`"
    )
