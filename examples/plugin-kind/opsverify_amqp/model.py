"""Config model of `amqp:` entries: one RabbitMQ queue, its depth and consumers."""

from __future__ import annotations

from pydantic import Field

from opsverify.api import CheckEntry, Duration, bound


class AmqpQueueCheck(CheckEntry):
    """`amqp: {orders: {queue: orders, max_messages: 1000, min_consumers: 1}}`"""

    host: str = Field(default="127.0.0.1", description="the broker's host")
    port: int = Field(default=5672, ge=1, le=65535)
    user: str = "guest"
    password: str = Field(
        default="guest", description="use ${RABBITMQ_PASSWORD}: it is masked in every output"
    )
    vhost: str = "/"
    queue: str = Field(description="the queue's name (read with a passive declare: never created)")
    max_messages: int | None = Field(default=None, ge=0, description="messages ready in the queue, at most")
    min_consumers: int | None = Field(default=None, ge=0, description="consumers attached, at least")
    timeout: Duration = Field(default=5.0, gt=0, description="connect and each answer, seconds")

    def thresholds(self) -> list[str]:
        parts = []
        if self.max_messages is not None:
            parts.append(bound("max", self.max_messages, " messages"))
        if self.min_consumers is not None:
            parts.append(bound("min", self.min_consumers, " consumers"))
        return parts
