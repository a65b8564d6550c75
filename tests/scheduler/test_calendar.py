"""Due times: intervals in real time, wall-clock times across DST changes (Europe/Berlin, America/New_York)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from opsverify.scheduler.calendar import DAY_GROUPS, Calendar, Interval, interval_text

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def local(moment: datetime, zone: ZoneInfo = BERLIN) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def test_daily_time_in_zone():
    daily = Calendar((time(2, 0),), BERLIN)
    due = daily.next_due(utc(2024, 6, 1, 12, 0))
    assert local(due) == "2024-06-02 02:00 CEST"
    assert due == utc(2024, 6, 2, 0, 0)


def test_several_times_a_day_in_order():
    checklist = Calendar((time(18, 0), time(9, 0), time(13, 0)), BERLIN)
    now = utc(2024, 1, 10, 7, 0)  # 08:00 CET
    seen = []
    for _ in range(4):
        now = checklist.next_due(now)
        seen.append(local(now))
    assert seen == [
        "2024-01-10 09:00 CET",
        "2024-01-10 13:00 CET",
        "2024-01-10 18:00 CET",
        "2024-01-11 09:00 CET",
    ]


def test_daily_time_keeps_its_wall_clock_across_both_dst_changes():
    daily = Calendar((time(9, 0),), BERLIN)
    now = utc(2024, 3, 29, 12, 0)
    for _ in range(220):  # through the spring and the autumn change
        now = daily.next_due(now)
        assert now.astimezone(BERLIN).strftime("%H:%M") == "09:00"
    assert now.astimezone(BERLIN).date().isoformat() == "2024-11-04"


def test_time_in_the_spring_forward_gap_runs_once_an_hour_later():
    # 2024-03-31 02:00 CET -> 03:00 CEST in Berlin: 02:30 does not exist that day.
    drill = Calendar((time(2, 30),), BERLIN)
    due = drill.next_due(utc(2024, 3, 30, 12, 0))
    assert local(due) == "2024-03-31 03:30 CEST"
    after = drill.next_due(due)
    assert local(after) == "2024-04-01 02:30 CEST"


def test_repeated_time_on_fall_back_day_runs_once_at_its_first_occurrence():
    # 2024-10-27 03:00 CEST -> 02:00 CET: 02:30 happens twice.
    drill = Calendar((time(2, 30),), BERLIN)
    first = drill.next_due(utc(2024, 10, 26, 12, 0))
    assert first == utc(2024, 10, 27, 0, 30)  # 02:30 CEST
    second_occurrence = utc(2024, 10, 27, 1, 30)  # 02:30 CET, one hour later
    assert drill.next_due(first) > second_occurrence
    assert local(drill.next_due(first)) == "2024-10-28 02:30 CET"
    # asked between the two occurrences, it does not run again that night either
    assert local(drill.next_due(first + timedelta(minutes=30))) == "2024-10-28 02:30 CET"


def test_new_york_gap_and_overlap():
    new_york = ZoneInfo("America/New_York")
    job = Calendar((time(2, 15),), new_york)
    spring = job.next_due(utc(2024, 3, 9, 20, 0))  # 2024-03-10 02:00 -> 03:00
    assert local(spring, new_york) == "2024-03-10 03:15 EDT"
    autumn = job.next_due(utc(2024, 11, 2, 20, 0))  # 2024-11-03 02:00 -> 01:00
    assert local(autumn, new_york) == "2024-11-03 02:15 EST"
    assert local(job.next_due(autumn), new_york) == "2024-11-04 02:15 EST"


def test_weekdays_skip_the_weekend():
    job = Calendar((time(7, 0),), ZoneInfo("UTC"), weekdays=DAY_GROUPS["weekday"])
    friday_evening = utc(2024, 5, 3, 20, 0)
    assert job.next_due(friday_evening) == utc(2024, 5, 6, 7, 0)  # Monday


def test_named_days():
    job = Calendar((time(7, 30),), BERLIN, weekdays=frozenset({0, 3}))  # monday, thursday
    assert local(job.next_due(utc(2024, 5, 6, 6, 0))) == "2024-05-09 07:30 CEST"


def test_day_of_month():
    job = Calendar((time(4, 0),), BERLIN, day_of_month=1)
    assert local(job.next_due(utc(2024, 1, 31, 12, 0))) == "2024-02-01 04:00 CET"
    assert local(job.next_due(utc(2024, 2, 1, 3, 30))) == "2024-03-01 04:00 CET"


def test_previous_due_is_respected():
    job = Calendar((time(9, 0),), BERLIN)
    previous = utc(2024, 1, 10, 8, 0)  # 09:00 CET
    assert job.next_due(utc(2024, 1, 10, 7, 0), previous) == utc(2024, 1, 11, 8, 0)


def test_interval_counts_real_seconds_through_dst():
    job = Interval(6 * 3600)
    start = utc(2024, 10, 26, 22, 0)
    assert job.next_due(start) - start == timedelta(hours=6)


def test_interval_keeps_its_cadence_and_skips_missed_beats():
    job = Interval(10)
    previous = utc(2024, 1, 1, 0, 0, 0)
    assert job.next_due(utc(2024, 1, 1, 0, 0, 3), previous) == utc(2024, 1, 1, 0, 0, 10)
    # asleep for 95 s: the next beat is the first one after now, not a burst of 9 missed ones
    assert job.next_due(utc(2024, 1, 1, 0, 1, 35), previous) == utc(2024, 1, 1, 0, 1, 40)
    assert job.next_due(utc(2024, 1, 1, 0, 1, 40), previous) == utc(2024, 1, 1, 0, 1, 50)


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30s"), (21600, "6h"), (5400, "1h30m"), (86400, "1d"), (0.5, "500ms")]
)
def test_interval_text(seconds, text):
    assert interval_text(seconds) == text


def test_describe():
    assert Interval(30).describe() == "every 30s"
    checklist = Calendar((time(13, 0), time(9, 0)), BERLIN)
    assert checklist.describe() == "every day at 09:00, 13:00 (Europe/Berlin)"
    weekdays = Calendar((time(7, 0),), BERLIN, weekdays=DAY_GROUPS["weekday"])
    assert weekdays.describe() == "every weekday at 07:00 (Europe/Berlin)"
    named = Calendar((time(7, 0, 30),), BERLIN, weekdays=frozenset({0, 3}))
    assert named.describe() == "every monday, thursday at 07:00:30 (Europe/Berlin)"
