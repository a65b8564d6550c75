"""The tcp verdict from constructed facts (no server)."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.tcp.facts import TcpFacts
from opsverify.kinds.tcp.model import TcpCheck
from opsverify.kinds.tcp.verdict import judge
from opsverify.problem import Judgement, Problem


def entry(**keys: Any) -> TcpCheck:
    return TcpCheck.model_validate({"host": "db.internal", "port": 5432, **keys})


def test_accepted_passes() -> None:
    assert judge(entry(), TcpFacts("db.internal:5432", connected=True, connect_ms=2)) == Judgement([], "")
    facts = TcpFacts("db.internal:22", connected=True, banner="SSH-2.0-OpenSSH_9.2")
    assert judge(entry(banner="^SSH-2.0"), facts).passed


def test_refused_is_one_connection_problem() -> None:
    facts = TcpFacts("db.internal:5432", error="connection refused by db.internal:5432")
    assert judge(entry(), facts).problems == [Problem("connection", "connection refused by db.internal:5432")]


def test_wrong_or_missing_banner() -> None:
    facts = TcpFacts("db.internal:25", connected=True, banner="hello")
    (problem,) = judge(entry(banner="^220 "), facts).problems
    assert (
        problem.text
        == "banner: expected a line matching /^220 /, got 'hello'; is the right service on this port?"
    )
    facts = TcpFacts("db.internal:25", connected=True, banner_error="no banner within 3s")
    (problem,) = judge(entry(banner="^220 "), facts).problems
    assert problem.found == "no banner within 3s"
