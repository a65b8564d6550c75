"""The amqp verdict: depth and consumers against the entry."""

from __future__ import annotations

from opsverify.api import Judgement, Problem
from opsverify_amqp.facts import AmqpFacts
from opsverify_amqp.model import AmqpQueueCheck


def judge(entry: AmqpQueueCheck, facts: AmqpFacts, rule: str | None = None) -> Judgement:
    if facts.error is not None:
        fix = "check the queue name and the broker" if "does not exist" in facts.error else ""
        return Judgement([Problem(f"queue {entry.queue}", facts.error, fix=fix)])
    problems = []
    if entry.max_messages is not None and (facts.messages or 0) > entry.max_messages:
        problems.append(
            Problem(
                f"queue {entry.queue}",
                f"{facts.messages} messages ready",
                f"at most {entry.max_messages} (max_messages)",
                "are its consumers keeping up? look at their logs and rate",
            )
        )
    if entry.min_consumers is not None and (facts.consumers or 0) < entry.min_consumers:
        problems.append(
            Problem(
                f"queue {entry.queue}",
                f"{facts.consumers} consumers",
                f"at least {entry.min_consumers} (min_consumers)",
                "is the worker service running?",
            )
        )
    return Judgement(
        problems,
        f"{facts.broker} queue {entry.queue}: {facts.messages} messages, {facts.consumers} consumers",
    )
