"""What an importer produces: target sections, the variables they use, and what was not converted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ImportProblem(Exception):
    """The input cannot be imported; the message names the file and what is wrong (exit 4)."""


@dataclass
class Draft:
    """A target being built: `sections[section][name] = entry`, in the order the source gave them."""

    target: str
    source: str  # what it was made from, for the header
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # variable -> example value, in order of first use
    env_comments: dict[str, str] = field(default_factory=dict)  # variable -> what it must point at
    not_converted: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # converted, with a value the source did not state
    env_file: str | None = None  # the target's `env_file:` (NAME.env beside it), set by `write`

    def add(self, section: str, name: str, entry: dict[str, Any]) -> str:
        """Add an entry under a unique slug of `name` (`api`, `api-2`); returns the name used."""
        entries = self.sections.setdefault(section, {})
        base = slug(name) or section
        unique, number = base, 1
        while unique in entries:
            number += 1
            unique = f"{base}-{number}"
        entries[unique] = entry
        return unique

    def var(self, name: str, example: str, comment: str | None = None) -> str:
        """`${NAME}`, remembering an example value (and a comment) for the .env.example; the first one wins."""
        name = re.sub(r"[^A-Z0-9_]", "_", name.upper()).strip("_") or "VALUE"
        if name[0].isdigit():
            name = f"V_{name}"
        self.env.setdefault(name, example)
        if comment:
            self.env_comments.setdefault(name, comment)
        return "${" + name + "}"

    def skip(self, what: str) -> None:
        what = one_line(what)
        if what not in self.not_converted:
            self.not_converted.append(what)

    def assume(self, what: str) -> None:
        """A converted line whose entry holds a value the source does not state (listed apart, to check)."""
        what = one_line(what)
        if what not in self.assumed:
            self.assumed.append(what)

    def entry_count(self) -> int:
        return sum(len(entries) for entries in self.sections.values())

    def render(self) -> str:
        """The target file: a header comment (source, what was not converted and why), then the sections."""
        lines = [
            f"# Imported by opsverify from {one_line(self.source)}.",
            "# Review it: every entry quotes its source.",
        ]
        lines.append("# Variables: the .env.example beside this file lists each one with an example value.")
        if self.not_converted:
            lines.append("#")
            lines.append("# Not converted, and why:")
            lines += [f"#   - {note}" for note in self.not_converted]
        if self.assumed:
            lines.append("#")
            lines.append("# Converted with an assumed value (check it):")
            lines += [f"#   - {note}" for note in self.assumed]
        sections = self._escaped(self.sections)
        body = yaml.safe_dump(
            {"target": self.target, **({"env_file": self.env_file} if self.env_file else {}), **sections},
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=110,
        )
        return "\n".join(lines) + "\n" + body

    def _escaped(self, value: Any) -> Any:
        """Source text as the target file reads it back: a `$` that is not one of this draft's `${VAR}`
        references is written `$$` (a literal `$`), so quoted text never asks for a variable."""
        if isinstance(value, dict):
            return {key: self._escaped(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._escaped(item) for item in value]
        if isinstance(value, str):
            return "$$".join(
                _REFERENCE.sub(
                    lambda m: m.group(0) if m.group(1) in self.env else "$$" + m.group(0)[1:], part
                )
                for part in value.split(LITERAL_DOLLAR)
            )
        return value

    def render_env(self) -> str:
        lines = [
            f"# Variables of the target imported from {one_line(self.source)}: copy this file to "
            f"{self.env_file or 'the env_file'} and set them."
        ]
        for name, value in self.env.items():
            if name in self.env_comments:
                lines.append(f"# {one_line(self.env_comments[name])}")
            lines.append(f"{name}={env_value(value)}")
        return "\n".join(lines) + "\n"

    def write(self, output: Path) -> tuple[Path, Path]:
        """Write the target (its `env_file:` NAME.env) and NAME.env.example beside it."""
        env_path, self.env_file = outputs(output)[1], f"{output.stem}.env"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(self.render(), encoding="utf-8")
        env_path.write_text(self.render_env(), encoding="utf-8")
        return output, env_path


LITERAL_DOLLAR = "\x1b$"  # an importer's mark for a `$` that is literal text, never a variable of the target
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|\{[^}]*\}?)?")


def outputs(output: Path) -> tuple[Path, Path]:
    """The files an import writes: the target and its `.env.example` (`prod.yaml` -> `prod.env.example`)."""
    return output, output.parent / f"{output.stem}.env.example"


def one_line(text: str) -> str:
    """Text for a comment line: no line break (it would end the comment), no control character."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(text).replace("\n", " ")).split())


def env_value(value: str) -> str:
    """A value as a KEY=value line reads it back unchanged: one line, quoted when it has spaces or `#`."""
    value = one_line(value) if not value.isprintable() or value != value.strip() else value
    if not value or not re.search(r"[\s#'\"]", value):
        return value
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return value.replace("'", "").replace('"', "")


def slug(text: str) -> str:
    """`HighCPUUsage` -> `high-cpu-usage`, `api_health` -> `api-health`: a check name."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def quote(file: str, line: int | None, text: str) -> str:
    """A description quoting the source line: `docker-compose.yml:12: test: curl -f http://...`."""
    text = one_line(text)
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{file}:{line}: {text}" if line else f"{file}: {text}"
