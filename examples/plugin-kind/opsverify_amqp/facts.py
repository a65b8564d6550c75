"""What the amqp probe saw: the queue's depth and consumers, or why it could not ask (a leaf)."""

from __future__ import annotations

from dataclasses import dataclass

from opsverify.api import Phase


@dataclass
class AmqpFacts:
    broker: str
    queue: str
    messages: int | None = None
    consumers: int | None = None
    error: str | None = None
    seconds: float = 0.0

    def phases(self) -> list[Phase]:
        if self.error is not None:
            return [
                Phase(f"declare {self.queue} (passive) on {self.broker}", False, self.error, self.seconds)
            ]
        found = f"{self.messages} messages, {self.consumers} consumers"
        return [Phase(f"declare {self.queue} (passive) on {self.broker}", True, found, self.seconds)]
