"""opsverify-amqp: an `amqp:` check kind for opsverify (a RabbitMQ queue's depth and consumers).

Registered through the entry point `opsverify.kinds: amqp = opsverify_amqp:KIND` (see pyproject.toml).
"""

from __future__ import annotations

from opsverify.api import Kind

KIND = Kind(
    name="amqp",
    section="amqp",
    entry_model="opsverify_amqp.model:AmqpQueueCheck",
    probe="opsverify_amqp.probe:probe",
    default_tiers=("smoke", "daily"),
    summary="RabbitMQ queue (AMQP 0-9-1): messages ready and consumers, by a passive declare",
)
