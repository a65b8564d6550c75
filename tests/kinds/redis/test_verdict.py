"""The redis verdict from constructed facts (no server): every problem it can report, and a pass."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.redis.facts import RedisFacts
from opsverify.kinds.redis.model import RedisCheck
from opsverify.kinds.redis.verdict import judge
from opsverify.problem import Judgement, Problem

WHERE = "cache.internal:6379/0"


def entry(**keys: Any) -> RedisCheck:
    return RedisCheck.model_validate({"url": f"redis://{WHERE}", **keys})


def server(**keys: Any) -> RedisFacts:
    facts = RedisFacts(where=WHERE, pong=True, reply="PONG", latency_ms=1.0, version="7.2.4", role="master")
    facts.used_memory, facts.maxmemory, facts.memory_limit = 800_000_000, 10**9, 10**9
    facts.memory_limit_source, facts.memory_pct = "maxmemory", 80.0
    for key, value in keys.items():
        setattr(facts, key, value)
    return facts


def test_a_healthy_server_passes() -> None:
    assert judge(entry(max_memory_pct=90), server()) == Judgement([], "")
    assert judge(entry(), server(memory_pct=None, used_memory=None)).passed  # memory not asked for


def test_an_unreachable_server_is_one_connection_problem_without_evidence() -> None:
    error = f"connection refused by {WHERE} (target unreachable: is Redis running and listening?)"
    assert judge(entry(), RedisFacts(where=WHERE, error=error)) == Judgement([Problem("connection", error)])


def test_a_reply_other_than_pong() -> None:
    judgement = judge(entry(), server(pong=False, reply="LOADING"))
    assert judgement.problems == [Problem(f"PING to {WHERE}", "'LOADING'", expected="PONG")]
    assert judgement.problems[0].text == f"PING to {WHERE}: expected PONG, got 'LOADING'"
    assert judgement.evidence == server(pong=False, reply="LOADING").summary()


def test_memory_over_the_limit_names_the_limit_and_the_fix() -> None:
    (problem,) = judge(entry(max_memory_pct=50), server()).problems
    assert problem.text == (
        "memory: expected <= 50%, got 800.0MB used of 1.0GB (maxmemory) = 80.0%; find big keys "
        "(`redis-cli --bigkeys`), set TTLs, or raise maxmemory"
    )


def test_memory_that_could_not_be_read() -> None:
    facts = server(used_memory=None, memory_pct=None, info_error="INFO memory has no used_memory field")
    assert judge(entry(max_memory_pct=50), facts).problems == [
        Problem("memory", f"could not read INFO memory from {WHERE}: INFO memory has no used_memory field")
    ]
