"""What about a Redis server contradicts its `redis:` entry: the PING reply, memory use."""

from __future__ import annotations

from opsverify.kinds.redis.facts import RedisFacts
from opsverify.kinds.redis.model import RedisCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import bound, format_size

MEMORY_FIX = "find big keys (`redis-cli --bigkeys`), set TTLs, or raise maxmemory"


def judge(entry: RedisCheck, facts: RedisFacts, rule: str | None = None) -> Judgement:
    """The server's problems (none: the check passes) and, when any, what PING and INFO said.

    `rule` is unused: redis entries have no rules.
    """
    if facts.error:
        return Judgement([Problem("connection", facts.error)])
    problems = []
    if not facts.pong:
        problems.append(Problem(f"PING to {facts.where}", repr(facts.reply), expected="PONG"))
    if entry.max_memory_pct is not None:
        if facts.memory_pct is None or facts.used_memory is None or facts.memory_limit is None:
            problems.append(
                Problem("memory", f"could not read INFO memory from {facts.where}: {facts.info_error}")
            )
        elif facts.memory_pct > entry.max_memory_pct:
            used = (
                f"{format_size(facts.used_memory)} used of {format_size(facts.memory_limit)} "
                f"({facts.memory_limit_source}) = {facts.memory_pct:.1f}%"
            )
            problems.append(
                Problem("memory", used, expected=bound("max", entry.max_memory_pct, "%"), fix=MEMORY_FIX)
            )
    return Judgement(problems, facts.summary() if problems else "")
