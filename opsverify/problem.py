"""Problems: what a verdict found wrong, as data. The terminal, summary.json, notifications and Allure render them.

A leaf module: it imports nothing of opsverify but redaction, so verdicts and every renderer can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from opsverify.redaction import redact

EVIDENCE_LINES = 40


@dataclass(frozen=True)
class Problem:
    """One way the observations contradict the entry.

    `subject` names what was looked at ("status", "json status", "newest backup age"); `expected` is what
    the target file asks for, `found` what the probe saw, `fix` what to do about it (optional). A problem
    where nothing could be observed (a refused connection) has no `expected`: `found` says what happened.
    """

    subject: str
    found: str
    expected: str = ""
    fix: str = ""

    @property
    def text(self) -> str:
        """`status: expected 200, got 503` — one line, as the terminal and messages show it (unredacted)."""
        body = f"expected {self.expected}, got {self.found}" if self.expected else self.found
        # "connection: connection refused by ..." says the subject twice: the observation names it already
        repeated = not self.expected and body.lower().startswith(self.subject.lower())
        line = f"{self.subject}: {body}" if self.subject and not repeated else body
        return f"{line}; {self.fix}" if self.fix else line

    def as_json(self) -> dict[str, str]:
        data = {key: redact(value) for key, value in asdict(self).items()}
        data["text"] = redact(self.text)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        return cls(
            subject=str(data.get("subject", "")),
            found=str(data.get("found", "")),
            expected=str(data.get("expected", "")),
            fix=str(data.get("fix", "")),
        )


@dataclass
class Judgement:
    """A verdict's result for one check: its problems (none: passed) and the evidence worth showing."""

    problems: list[Problem] = field(default_factory=list)
    evidence: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    return [redact(problem.text) for problem in problems]


def failure_text(check_id: str, target: str, problems: Iterable[Problem], evidence: str = "") -> str:
    """What a failed check shows in the terminal and JUnit: header, one line per problem, the evidence."""
    lines = [f"{check_id} failed on target {target}:"]
    lines += [f"  - {line}" for line in problem_lines(problems)]
    if evidence:
        lines.append("  evidence:")
        lines += [f"    {line}" for line in evidence.splitlines()[:EVIDENCE_LINES]]
    return redact("\n".join(lines))
