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
    not_converted: list[str] = field(default_factory=list)

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

    def var(self, name: str, example: str) -> str:
        """`${NAME}`, remembering an example value for the .env.example (the first one given wins)."""
        name = re.sub(r"[^A-Z0-9_]", "_", name.upper()).strip("_") or "VALUE"
        if name[0].isdigit():
            name = f"V_{name}"
        self.env.setdefault(name, example)
        return "${" + name + "}"

    def skip(self, what: str) -> None:
        if what not in self.not_converted:
            self.not_converted.append(what)

    def entry_count(self) -> int:
        return sum(len(entries) for entries in self.sections.values())

    def render(self) -> str:
        """The target file: a header comment (source, what was not converted and why), then the sections."""
        lines = [
            f"# Imported by opsverify from {self.source}.",
            "# Review it: every entry quotes its source.",
        ]
        lines.append("# Variables: .env.example beside this file lists each one with an example value.")
        if self.not_converted:
            lines.append("#")
            lines.append("# Not converted, and why:")
            lines += [f"#   - {note}" for note in self.not_converted]
        body = yaml.safe_dump(
            {"target": self.target, **self.sections},
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=110,
        )
        return "\n".join(lines) + "\n" + body

    def render_env(self) -> str:
        lines = [f"# Variables of the target imported from {self.source}; set them (or copy to .env)."]
        lines += [f"{name}={value}" for name, value in self.env.items()]
        return "\n".join(lines) + "\n"

    def write(self, output: Path) -> tuple[Path, Path]:
        """Write the target and `.env.example` beside it."""
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(self.render(), encoding="utf-8")
        env_path = output.parent / ".env.example"
        env_path.write_text(self.render_env(), encoding="utf-8")
        return output, env_path


def slug(text: str) -> str:
    """`HighCPUUsage` -> `high-cpu-usage`, `api_health` -> `api-health`: a check name."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def quote(file: str, line: int | None, text: str) -> str:
    """A description quoting the source line: `docker-compose.yml:12: test: curl -f http://...`."""
    text = " ".join(str(text).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{file}:{line}: {text}" if line else f"{file}: {text}"
