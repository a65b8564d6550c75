"""The redis probe against the real Redis and a refused port."""

from __future__ import annotations

import socket
from typing import Any

import psutil
import pytest

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.redis.facts import RedisFacts
from opsverify.kinds.redis.model import RedisCheck
from opsverify.kinds.redis.probe import probe, read_memory
from opsverify.kinds.redis.verdict import judge
from tests.conftest import refused_port


def check(url: str, **keys: Any) -> tuple[RedisCheck, RedisFacts]:
    entry = RedisCheck.model_validate({"url": url, "timeout": 2, **keys})
    return entry, probe(entry, ProbeContext("test"))


def problems(entry: RedisCheck, facts: RedisFacts) -> list[str]:
    """The verdict's problems, one line each as the terminal shows them."""
    return [problem.text for problem in judge(entry, facts).problems]


def test_ping_and_memory(redis_url: str) -> None:
    entry, facts = check(redis_url, max_memory_pct=100)
    assert problems(entry, facts) == [], facts.summary()
    assert facts.pong
    assert facts.reply == "PONG"
    assert facts.version
    assert facts.role in ("master", "slave", "replica")
    assert facts.used_memory
    assert facts.memory_limit
    assert facts.memory_pct is not None
    assert facts.where == "127.0.0.1:6379/0"


def test_memory_over_the_limit_fails(redis_url: str) -> None:
    entry, facts = check(redis_url, max_memory_pct=0.0001)
    (problem,) = problems(entry, facts)
    assert problem.startswith("memory: ")
    assert "expected <= 0.0001%" in problem
    assert facts.memory_limit_source in problem


def test_memory_limit_sources() -> None:
    facts = RedisFacts(where="x")
    read_memory({"used_memory": 50, "maxmemory": 200}, facts)
    assert (facts.memory_limit, facts.memory_pct, facts.memory_limit_source) == (200, 25.0, "maxmemory")
    read_memory({"used_memory": 50, "maxmemory": 0, "total_system_memory": 1000}, facts)
    assert facts.memory_limit == 1000
    assert "maxmemory is 0" in facts.memory_limit_source
    read_memory({"used_memory": 50, "maxmemory": 0}, facts)
    assert facts.memory_limit == psutil.virtual_memory().total
    assert facts.memory_limit_source.startswith("this machine's total memory (psutil): maxmemory is 0")


def test_refused_port() -> None:
    port = refused_port()
    entry, facts = check(f"redis://:hunter5-canary@127.0.0.1:{port}/0")
    assert problems(entry, facts) == [
        f"connection refused by 127.0.0.1:{port}/0 (target unreachable: is Redis running and listening?)"
    ]


def test_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        _entry, facts = check(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    assert facts.error == f"no reply from 127.0.0.1:{port}/0 within 0.3s (timeout)"


def test_wrong_password_is_reported_without_the_password(redis_url: str) -> None:
    host = redis_url.split("://", 1)[1]
    _entry, facts = check(f"redis://opsverify:hunter6-canary@{host}")
    assert facts.error is not None
    assert facts.error.startswith("authentication failed on 127.0.0.1:6379/0")
    assert "hunter6" not in facts.summary()


def test_url_validation() -> None:
    with pytest.raises(ValueError, match="expected a redis://"):
        RedisCheck(url="http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="keep one of them"):
        RedisCheck(url="redis://:pw1@127.0.0.1", password="pw2")
