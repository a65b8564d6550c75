"""Each limit of the restore drill at its edge: equal, one unit inside, one unit outside.

`rto`, `freshness.max_lag` and `count_tolerance_pct` are "at most": exactly the limit passes. `min_rows` is "at
least": exactly the limit passes, one row fewer fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opsverify.kinds.restore.facts import Verification
from opsverify.kinds.restore.verdict import judge
from opsverify.problem import Problem
from tests.kinds.restore.test_verdict import drill, entry


def problems(expect: dict[str, Any], found: Verification, **restore: Any) -> list[Problem]:
    return judge(entry(expect, **restore), drill(found)).problems


@pytest.mark.parametrize(("seconds", "fails"), [(9.0, False), (10.0, False), (10.5, True), (11.0, True)])
def test_rto_is_at_most_the_limit(seconds: float, fails: bool) -> None:
    found = judge(entry(rto="10s"), drill(verified=True, rto_seconds=seconds)).problems
    assert [(p.subject, p.expected) for p in found] == ([("drill", "at most 10s (rto)")] if fails else [])


@pytest.mark.parametrize(("rows", "fails"), [(999, True), (1000, False), (1001, False)])
def test_min_rows_is_at_least_the_limit(rows: int, fails: bool) -> None:
    found = problems({"min_rows": {"bookings": 1000}}, Verification(row_counts={"bookings": rows}))
    if fails:
        assert found == [
            Problem("table bookings", "999 rows after the restore", "at least 1000 rows (min_rows)")
        ]
    else:
        assert found == []


FRESHNESS = {"freshness": {"sql": "select max(created_at) from bookings", "max_lag": "30m"}}
NEWEST = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("lag", "fails"), [(1799.0, False), (1800.0, False), (1801.0, True), (1860.0, True)])
def test_freshness_max_lag_is_at_most_the_limit(lag: float, fails: bool) -> None:
    found = problems(FRESHNESS, Verification(newest_row=NEWEST, data_lag_s=lag))
    if fails:
        (problem,) = found
        assert (problem.subject, problem.expected) == ("freshness", "newest row at most 30m old (max_lag)")
        assert problem.found.endswith("old (2027-01-15T06:00:00+00:00)")
        assert problem.fix == "restoring this backup would lose that much data (RPO)"
    else:
        assert found == []


COMPARE = {"compare_to": "main", "count_tolerance_pct": 10}


@pytest.mark.parametrize(
    ("restored", "fails"),
    [(899, True), (900, False), (901, False), (1099, False), (1100, False), (1101, True)],
)
def test_row_count_tolerance_is_at_most_the_limit_either_way(restored: int, fails: bool) -> None:
    """10 % of 1000 production rows: 900 and 1100 restored rows are exactly 10 % apart and pass."""
    found = problems(COMPARE, Verification(row_counts={"t": restored}, production_counts={"t": 1000}))
    if fails:
        assert found == [
            Problem(
                "table t",
                f"{restored} rows restored vs 1000 in production (main), 10.1% apart",
                "within 10% (count_tolerance_pct)",
            )
        ]
    else:
        assert found == []


def test_an_empty_production_table_compares_against_one_row() -> None:
    """`max(live, 1)`: 0 vs 0 is 0 % apart; 1 restored row against an empty table is 100 % apart."""
    assert problems(COMPARE, Verification(row_counts={"t": 0}, production_counts={"t": 0})) == []
    (problem,) = problems(COMPARE, Verification(row_counts={"t": 1}, production_counts={"t": 0}))
    assert problem.found == "1 row restored vs 0 in production (main), 100.0% apart"


@pytest.mark.parametrize(("files", "fails"), [(899, True), (900, False), (1100, False), (1101, True)])
def test_file_count_tolerance_is_at_most_the_limit_either_way(files: int, fails: bool) -> None:
    expect = {"compare_dir": "/srv/uploads", "count_tolerance_pct": 10}
    found = problems(expect, Verification(files=files, compare_files=1000))
    if fails:
        assert found == [
            Problem(
                "restored archive",
                f"{files} files vs 1000 in /srv/uploads, 10.1% apart",
                "within 10% (count_tolerance_pct)",
            )
        ]
    else:
        assert found == []


def test_an_empty_compare_dir_compares_against_one_file() -> None:
    """`max(files, 1)`: 0 vs 0 is 0 % apart; 1 restored file against an empty folder is 100 % apart."""
    expect = {"compare_dir": "/srv/uploads", "count_tolerance_pct": 60}
    assert problems(expect, Verification(files=0, compare_files=0)) == []
    (problem,) = problems(expect, Verification(files=1, compare_files=0))
    assert problem.found == "1 file vs 0 in /srv/uploads, 100.0% apart"
    (problem,) = problems(expect, Verification(files=0, compare_files=1))
    assert problem.found == "0 files vs 1 in /srv/uploads, 100.0% apart"
