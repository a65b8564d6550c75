"""The host probe on this machine, judged by the verdict: thresholds that pass, that fail, the messages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, HostEntry, HostSection, LoadCheck
from opsverify.kinds.host.probe import probe
from opsverify.kinds.host.verdict import judge

CTX = ProbeContext("test")


def problems(entry: HostEntry, facts: HostFacts) -> list[str]:
    return [problem.text for problem in judge(entry, facts).problems]


def section(**keys: object) -> HostSection:
    return HostSection.model_validate(keys)


def test_entries_are_named_by_what_they_measure() -> None:
    host = section(
        disk=[{"path": "/", "max_used_pct": 85}, {"path": "/tmp", "min_free": "1GB"}],
        memory={"max_used_pct": 90},
        load={"max_per_core": 2},
        cpu={"max_used_pct": 70, "tiers": ["weekly"]},
    )
    assert [name for name, _ in host.entries()] == ["disk:/", "disk:/tmp", "memory", "load", "cpu"]
    assert host.cpu is not None
    assert host.cpu.tiers == ["weekly"]


def test_generous_limits_pass_on_this_machine() -> None:
    host = section(
        disk=[{"path": "/", "max_used_pct": 100, "min_free": 0, "max_inodes_used_pct": 100}],
        memory={"max_used_pct": 100},
        load={"max_per_core": 1000, "window": "1m"},
        cpu={"max_used_pct": 100, "interval": "100ms"},
    )
    for name, entry in host.entries():
        facts = probe(entry, CTX)
        assert problems(entry, facts) == [], name
        assert facts.top_processes == [], name
    disk = probe(host.disk[0], CTX)
    assert disk.total > 0
    assert 0 < disk.used_pct < 100
    assert disk.mountpoint.startswith("/")
    assert "% used" in disk.evidence()


def test_a_full_disk_fails_with_the_numbers_and_the_fix() -> None:
    entry = section(disk=[{"path": "/", "max_used_pct": 0.001, "min_free": "500TB"}]).disk[0]
    facts = probe(entry, CTX)
    used, free = problems(entry, facts)
    assert used.startswith(f"disk /: expected at most 0.001% used, got {facts.used_pct:.1f}% used (")
    assert "free); free space" in used
    assert used.endswith("or grow the volume")
    assert "expected at least 500.0TB free, got " in free


def test_memory_over_the_limit_lists_the_largest_processes() -> None:
    host = section(memory={"max_used_pct": 0.001})
    assert host.memory is not None
    facts = probe(host.memory, CTX)
    (problem,) = problems(host.memory, facts)
    assert problem.startswith(f"memory: expected at most 0.001% used, got {facts.used_pct:.1f}% used (")
    assert "available); see the largest processes below" in problem
    assert facts.top_processes
    assert all(line.startswith("  pid ") for line in facts.top_processes)
    assert "resident" in facts.evidence()


def test_load_and_cpu_over_the_limit() -> None:
    load = LoadCheck(max_per_core=0.5)
    busy = HostFacts("load", "load", load=3.4, cores=2, per_core=1.7)
    assert problems(load, busy) == [
        "load: expected at most 0.5 per core, got 5m load average 3.40 = 1.70 per core on 2 cores; see the "
        "busiest processes below"
    ]
    cpu = CpuCheck(max_used_pct=70)
    (problem,) = problems(cpu, HostFacts("cpu", "cpu", used_pct=93.5, cores=2))
    assert problem.startswith("cpu: expected at most 70% busy, got 93.5% busy over 1s on 2 cores")
    # On this machine: a real measurement, and the busiest processes when over the (tiny) limit.
    facts = probe(LoadCheck(max_per_core=1e-9, window="1m"), CTX)
    assert facts.cores >= 1
    assert facts.per_core == pytest.approx(facts.load / facts.cores)
    if facts.load > 0:
        assert facts.top_processes


def test_a_missing_path_is_named() -> None:
    entry = section(disk=[{"path": "/no/such/volume", "max_used_pct": 80}]).disk[0]
    (problem,) = problems(entry, probe(entry, CTX))
    assert problem.startswith("disk /no/such/volume: no such path on ")
    assert "fix `host.disk[].path`" in problem


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"disk": [{"path": "/"}]}, "give a limit"),
        ({"disk": [{"path": "/", "max_used_pct": 80}, {"path": "/", "min_free": "1GB"}]}, "listed twice"),
        ({"disk": [{"path": "/", "max_used_pct": 180}]}, "less than or equal to 100"),
        ({"memory": {"max_used_pct": 0}}, "greater than 0"),
        ({"load": {"max_per_core": 1, "window": "10m"}}, "Input should be '1m', '5m' or '15m'"),
        ({"swap": {"max_used_pct": 50}}, "Extra inputs are not permitted"),
        ({"disk": {"path": "/", "max_used_pct": 80}}, "Input should be a valid list"),
    ],
)
def test_invalid_sections_are_rejected(keys: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        section(**keys)
