"""The amqp probe: one passive queue.declare; refused, denied and missing queues become facts."""

from __future__ import annotations

import time

from opsverify.api import ProbeContext
from opsverify_amqp.client import AmqpError, queue_state
from opsverify_amqp.facts import AmqpFacts
from opsverify_amqp.model import AmqpQueueCheck


def probe(entry: AmqpQueueCheck, ctx: ProbeContext) -> AmqpFacts:
    broker = f"amqp://{entry.host}:{entry.port}{entry.vhost}"
    facts = AmqpFacts(broker, entry.queue)
    started = time.monotonic()
    try:
        state = queue_state(
            entry.host, entry.port, entry.user, entry.password, entry.vhost, entry.queue, entry.timeout
        )
    except AmqpError as exc:
        if exc.code == 404:
            facts.error = f"queue {entry.queue!r} does not exist on {broker}"
        elif exc.code in (403, 530):
            facts.error = f"access refused on {broker}: {exc}"
        else:
            facts.error = f"{broker} refused: {exc}"
    except TimeoutError:
        facts.error = f"{broker} did not answer within {entry.timeout:g}s"
    except OSError as exc:
        facts.error = (
            f"cannot reach {broker}: {exc.strerror or exc} (wrong user/password closes the connection too)"
        )
    else:
        facts.messages, facts.consumers = state.messages, state.consumers
    facts.seconds = time.monotonic() - started
    return facts
