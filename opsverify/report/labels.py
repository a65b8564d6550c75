"""Who a test is: target, kind, entry, tiers, severity. Set at collection as Allure labels and as
`user_properties` (which travel with every test report, also from pytest-xdist workers to the controller).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

PROPERTY_PREFIX = "opsverify_"
DEPENDS_ON_PROPERTY = "opsverify_depends_on"  # a check's depends_on, from its item to the controller
CUSTOM_KIND = "custom"  # a hand-written test in checks/ (not an entry of the target file)


@dataclass(frozen=True)
class CheckIdentity:
    target: str
    kind: str
    name: str
    tiers: tuple[str, ...]
    severity: str

    def properties(self) -> list[tuple[str, str]]:
        return [
            (f"{PROPERTY_PREFIX}target", self.target),
            (f"{PROPERTY_PREFIX}kind", self.kind),
            (f"{PROPERTY_PREFIX}check", self.name),
            (f"{PROPERTY_PREFIX}tiers", ",".join(self.tiers)),
            (f"{PROPERTY_PREFIX}severity", self.severity),
        ]

    @classmethod
    def from_properties(cls, properties: Iterable[tuple[str, object]]) -> CheckIdentity | None:
        values: Mapping[str, object] = {
            key.removeprefix(PROPERTY_PREFIX): value
            for key, value in properties
            if isinstance(key, str) and key.startswith(PROPERTY_PREFIX)
        }
        if "kind" not in values or "check" not in values:
            return None
        tiers = str(values.get("tiers") or "")
        return cls(
            target=str(values.get("target") or ""),
            kind=str(values["kind"]),
            name=str(values["check"]),
            tiers=tuple(t for t in tiers.split(",") if t),
            severity=str(values.get("severity") or "normal"),
        )


def allure_marks(identity: CheckIdentity) -> list[pytest.MarkDecorator]:
    """epic = target, feature = kind, story = entry, severity (allure-pytest adds the tier marks as tags)."""
    label = pytest.mark.allure_label
    marks = [
        label(identity.target, label_type="epic"),
        label(identity.kind, label_type="feature"),
        label(identity.name, label_type="story"),
        label(identity.severity, label_type="severity"),
    ]
    return marks if identity.target else marks[1:]
