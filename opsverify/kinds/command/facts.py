"""What the command probe observed: the exit code, the output (cut), how long it ran, where."""

from __future__ import annotations

from dataclasses import dataclass

from opsverify.kinds.base import Phase

SHOWN = 600  # characters of output a failure message shows


@dataclass
class CommandFacts:
    where: str
    command: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    error: str | None = None  # the machine could not be reached or the command could not start

    def phases(self) -> list[Phase]:
        if self.error:
            return [Phase(f"run on {self.where}", False, self.error)]
        if self.timed_out:
            return [
                Phase(f"run on {self.where}", False, f"{self.command}: killed at its timeout", self.seconds)
            ]
        return [Phase(f"run on {self.where}", True, f"{self.command} -> exit {self.exit_code}", self.seconds)]

    def summary(self) -> str:
        """Evidence: the command, its exit code and the start of its output (the plugin redacts it)."""
        if self.error:
            return f"$ {self.command}  (on {self.where})\n{self.error}"
        status = "killed at its timeout" if self.timed_out else f"exit {self.exit_code}"
        lines = [f"$ {self.command}  (on {self.where}: {status} in {self.seconds:.1f}s)"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                shown = (
                    text if len(text) <= SHOWN else text[:SHOWN] + f"… ({len(text) - SHOWN} more characters)"
                )
                lines.append(f"{name}:\n{shown.rstrip()}")
        return "\n".join(lines)
