"""Each host limit at its edge: equal, one unit inside, one unit outside.

`max_used_pct`, `max_inodes_used_pct`, `max_per_core` are "at most" (exactly the limit passes); `min_free` is
"at least" (exactly that many bytes free passes, one byte less fails).
"""

from __future__ import annotations

import pytest

from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, DiskCheck, LoadCheck, MemoryCheck
from opsverify.kinds.host.verdict import judge
from tests.kinds.host.test_verdict import GB, disk

PCT = [(84.0, False), (84.9, False), (85.0, False), (85.1, True), (86.0, True)]


def expected(entry: DiskCheck | MemoryCheck | CpuCheck | LoadCheck, facts: HostFacts) -> list[str]:
    return [problem.expected for problem in judge(entry, facts).problems]


@pytest.mark.parametrize(("used", "fails"), PCT)
def test_disk_max_used_pct_is_at_most_the_limit(used: float, fails: bool) -> None:
    found = expected(DiskCheck(path="/var", max_used_pct=85), disk(used_pct=used))
    assert found == (["at most 85% used"] if fails else [])


@pytest.mark.parametrize(("free", "fails"), [(5 * GB - 1, True), (5 * GB, False), (5 * GB + 1, False)])
def test_disk_min_free_is_at_least_the_limit(free: int, fails: bool) -> None:
    found = expected(DiskCheck(path="/var", min_free="5GB"), disk(available=free, used_pct=95.0))
    assert found == (["at least 5.0GB free"] if fails else [])


@pytest.mark.parametrize(("inodes", "fails"), PCT)
def test_disk_max_inodes_used_pct_is_at_most_the_limit(inodes: float, fails: bool) -> None:
    found = expected(DiskCheck(path="/var", max_inodes_used_pct=85), disk(inodes_used_pct=inodes))
    assert found == (["at most 85% of inodes used"] if fails else [])


@pytest.mark.parametrize(("used", "fails"), PCT)
def test_memory_max_used_pct_is_at_most_the_limit(used: float, fails: bool) -> None:
    facts = HostFacts("memory", "memory", total=100 * GB, available=10 * GB, used_pct=used)
    assert expected(MemoryCheck(max_used_pct=85), facts) == (["at most 85% used"] if fails else [])


@pytest.mark.parametrize(("used", "fails"), PCT)
def test_cpu_max_used_pct_is_at_most_the_limit(used: float, fails: bool) -> None:
    facts = HostFacts("cpu", "cpu", used_pct=used, cores=4)
    assert expected(CpuCheck(max_used_pct=85), facts) == (["at most 85% busy"] if fails else [])


@pytest.mark.parametrize(
    ("per_core", "fails"), [(1.9, False), (1.99, False), (2.0, False), (2.01, True), (2.1, True)]
)
def test_load_max_per_core_is_at_most_the_limit(per_core: float, fails: bool) -> None:
    facts = HostFacts("load", "load", load=per_core * 4, cores=4, per_core=per_core)
    assert expected(LoadCheck(max_per_core=2), facts) == (["at most 2 per core"] if fails else [])


def test_a_measurement_that_failed_is_named_by_its_check() -> None:
    """A disk is named with its path; memory, load and cpu by the check's name."""
    facts = HostFacts("memory", "memory", error="cannot read /proc/meminfo")
    (problem,) = judge(MemoryCheck(max_used_pct=85), facts).problems
    assert (problem.subject, problem.found) == ("memory", "cannot read /proc/meminfo")
    facts = HostFacts("disk", "/var", error="no such path")
    (problem,) = judge(DiskCheck(path="/var", max_used_pct=85), facts).problems
    assert (problem.subject, problem.found) == ("disk /var", "no such path")
