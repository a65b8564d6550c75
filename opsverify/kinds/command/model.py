"""Config model of `command:` entries: run a command locally or `via:` and judge its exit code and output."""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import Field, field_validator, model_validator

from opsverify.comparison import show
from opsverify.config.types import CheckEntry, Duration, StrictModel
from opsverify.connect.via import ViaKey
from opsverify.expressions import compile_condition
from opsverify.units import bound


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


class CommandExpect(StrictModel):
    exit_code: int | list[int] = Field(default=0, description="the exit code, or a list of accepted codes")
    stdout: str | None = Field(
        default=None, description="stdout equals this (surrounding whitespace ignored)"
    )
    stdout_regex: str | None = Field(default=None, description="a regex stdout must contain (multiline)")
    stdout_not_regex: str | None = Field(default=None, description="a regex stdout must not contain")
    stderr: str | None = Field(
        default=None, description="stderr equals this (surrounding whitespace ignored)"
    )
    stderr_regex: str | None = None
    stderr_not_regex: str | None = None
    lines: int | None = Field(default=None, ge=0, description="stdout has exactly this many non-empty lines")
    min_lines: int | None = Field(default=None, ge=0)
    max_lines: int | None = Field(default=None, ge=0)
    json_: dict[str, Any] | None = Field(
        default=None, alias="json", description="path -> value in stdout's JSON"
    )
    conditions: list[str] = Field(default_factory=list, description="`path > 3` on stdout's JSON")

    _regexes = field_validator("stdout_regex", "stdout_not_regex", "stderr_regex", "stderr_not_regex")(
        classmethod(lambda cls, value: _regex(value))
    )

    @field_validator("conditions")
    @classmethod
    def _conditions_parse(cls, value: list[str]) -> list[str]:
        for text in value:
            compile_condition(text)
        return value

    @property
    def exit_codes(self) -> list[int]:
        return self.exit_code if isinstance(self.exit_code, list) else [self.exit_code]


class CommandCheck(CheckEntry):
    run: list[str] | str = Field(description="argv list (no shell), or a shell string with `shell: true`")
    shell: bool = Field(default=False, description="run `run` through /bin/sh -c (pipes, globs, $VARS)")
    cwd: str | None = Field(default=None, description="the folder the command runs in, on its machine")
    via: ViaKey | None = Field(default=None, description="where it runs: local, ssh://…, docker://…")
    timeout: Duration = Field(default=30.0, gt=0, description="the command is killed after this")
    expect: CommandExpect = Field(default_factory=CommandExpect)

    @model_validator(mode="after")
    def _argv_or_shell(self) -> CommandCheck:
        if isinstance(self.run, str) and not self.shell:
            raise ValueError(
                f"`run` is a string ({self.run!r}) but `shell` is not true: write it as an argv list "
                f"({shlex.split(self.run) if _splits(self.run) else '[program, arg, ...]'}) or set `shell: true`"
            )
        if isinstance(self.run, list) and self.shell:
            raise ValueError("`shell: true` needs `run` as one string, not a list")
        if isinstance(self.run, list) and not self.run:
            raise ValueError("`run` is an empty list; give the program and its arguments")
        return self

    def command(self) -> list[str] | str:
        """What the connection runs: the argv (wrapped to change folder), or the shell string."""
        if self.cwd is None:
            return self.run
        if isinstance(self.run, str):
            return f"cd {shlex.quote(self.cwd)} && {self.run}"
        return ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", self.cwd, *self.run]

    def display(self) -> str:
        return self.run if isinstance(self.run, str) else shlex.join(self.run)

    def thresholds(self) -> list[str]:
        expect = self.expect
        codes = expect.exit_codes
        parts = [f"exit {codes[0]}" if len(codes) == 1 else f"exit in {codes}"]
        parts += [f"stdout = {expect.stdout!r}"] if expect.stdout is not None else []
        parts += [f"stdout ~ /{expect.stdout_regex}/"] if expect.stdout_regex else []
        parts += [f"stdout !~ /{expect.stdout_not_regex}/"] if expect.stdout_not_regex else []
        parts += [f"stderr = {expect.stderr!r}"] if expect.stderr is not None else []
        parts += [f"stderr ~ /{expect.stderr_regex}/"] if expect.stderr_regex else []
        parts += [f"stderr !~ /{expect.stderr_not_regex}/"] if expect.stderr_not_regex else []
        parts += [f"{expect.lines} lines"] if expect.lines is not None else []
        parts += [f"{bound('min', expect.min_lines)} lines"] if expect.min_lines is not None else []
        parts += [f"{bound('max', expect.max_lines)} lines"] if expect.max_lines is not None else []
        parts += [f"json {path}={show(value)}" for path, value in (expect.json_ or {}).items()]
        parts += [f"json {text}" for text in expect.conditions]
        if self.via is not None and not self.via.is_local:
            parts.append(f"via {self.via.describe()}")
        return parts


def _splits(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:
        return False
    return True
