"""What about a port contradicts its `tcp:` entry: not accepting, or the wrong banner."""

from __future__ import annotations

import re

from opsverify.kinds.tcp.facts import TcpFacts
from opsverify.kinds.tcp.model import TcpCheck
from opsverify.problem import Judgement, Problem


def judge(entry: TcpCheck, facts: TcpFacts, rule: str | None = None) -> Judgement:
    """`rule` is unused: tcp entries have no rules."""
    if facts.error or not facts.connected:
        return Judgement([Problem("connection", facts.error or f"no connection to {facts.where}")])
    problems = []
    if entry.banner is not None:
        if facts.banner is None:
            problems.append(
                Problem("banner", facts.banner_error or "none", expected=f"a line matching /{entry.banner}/")
            )
        elif not re.search(entry.banner, facts.banner):
            problems.append(
                Problem(
                    "banner",
                    repr(facts.banner),
                    expected=f"a line matching /{entry.banner}/",
                    fix="is the right service on this port?",
                )
            )
    return Judgement(problems, facts.summary() if problems else "")
