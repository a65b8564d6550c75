"""The host verdict from constructed facts: it dispatches on the entry's type; each problem, and passes."""

from __future__ import annotations

import pytest

from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, DiskCheck, HostEntry, LoadCheck, MemoryCheck
from opsverify.kinds.host.verdict import judge
from opsverify.problem import Problem

GB = 1_000_000_000


def disk(**values: object) -> HostFacts:
    defaults: dict[str, object] = {"total": 100 * GB, "available": 10 * GB, "used_pct": 90.0}
    defaults.update(values)
    return HostFacts("disk", "/var", hostname="db1", mountpoint="/", **defaults)  # type: ignore[arg-type]


def texts(entry: HostEntry, facts: HostFacts) -> list[str]:
    return [problem.text for problem in judge(entry, facts).problems]


def test_within_every_limit_passes_with_the_measurement_as_evidence() -> None:
    entry = DiskCheck(path="/var", max_used_pct=95, min_free="5GB", max_inodes_used_pct=50)
    judgement = judge(entry, disk(inodes_used_pct=10.0))
    assert judgement.passed
    assert judgement.evidence.startswith("db1: /var on /: 90.0% used, ")
    assert judge(MemoryCheck(max_used_pct=90), HostFacts("memory", "memory", used_pct=90.0)).passed
    assert judge(LoadCheck(max_per_core=2), HostFacts("load", "load", load=4, cores=2, per_core=2)).passed
    assert judge(CpuCheck(max_used_pct=50), HostFacts("cpu", "cpu", used_pct=49.9, cores=4)).passed


def test_disk_over_each_limit() -> None:
    entry = DiskCheck(path="/var", max_used_pct=85, min_free="20GB", max_inodes_used_pct=90)
    used, free, inodes = judge(entry, disk(inodes_used_pct=95.04)).problems
    assert used == Problem(
        "disk /var",
        "90.0% used (90.0GB of 100.0GB, 10.0GB free)",
        expected="at most 85% used",
        fix="free space (old logs, backups, images) or grow the volume",
    )
    assert (
        free.text
        == "disk /var: expected at least 20.0GB free, got 10.0GB free; free space or grow the volume"
    )
    assert inodes.text == (
        "disk /var: expected at most 90% of inodes used, got 95.0% of inodes used; "
        "delete many small files (sessions, caches, mail queues)"
    )


def test_a_missing_path_has_the_fix_other_errors_do_not() -> None:
    entry = DiskCheck(path="/no/such", max_used_pct=80)
    missing = HostFacts("disk", "/no/such", hostname="db1", error="no such path on db1", path_missing=True)
    judgement = judge(entry, missing)
    assert texts(entry, missing) == [
        "disk /no/such: no such path on db1; fix `host.disk[].path` "
        "(the host checks measure the machine of `via:`, by default the one the suite runs on)"
    ]
    assert judgement.evidence == ""
    denied = HostFacts("disk", "/no/such", error="cannot measure it (Permission denied)")
    assert texts(entry, denied) == ["disk /no/such: cannot measure it (Permission denied)"]


def test_memory_load_and_cpu_over_their_limits() -> None:
    memory = HostFacts("memory", "memory", used_pct=95.0, total=16 * GB, available=800_000_000)
    assert texts(MemoryCheck(max_used_pct=90), memory) == [
        "memory: expected at most 90% used, got 95.0% used (15.2GB of 16.0GB, 800.0MB available); "
        "see the largest processes below (a leak? add memory limits)"
    ]
    load = HostFacts("load", "load", load=6.0, cores=4, per_core=1.5)
    assert texts(LoadCheck(max_per_core=1, window="15m"), load) == [
        "load: expected at most 1 per core, got 15m load average 6.00 = 1.50 per core on 4 cores; "
        "see the busiest processes below"
    ]
    cpu = HostFacts("cpu", "cpu", used_pct=88.0, cores=1)
    assert texts(CpuCheck(max_used_pct=80, interval=2), cpu) == [
        "cpu: expected at most 80% busy, got 88.0% busy over 2s on 1 core; see the busiest processes below"
    ]


def test_an_entry_of_no_known_host_type_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown host check HostEntry"):
        judge(HostEntry(), HostFacts("memory", "memory"))
