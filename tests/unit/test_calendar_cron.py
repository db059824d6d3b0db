"""The DST policy of local-time cron, over whole years in three zones: a fixed-time job
runs exactly once every local day; in the spring-forward gap at the first instant after
it, in the fall-back fold at the first occurrence."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maintenance.calendar.cron import LocalCron, check
from maintenance.errors import BadInput

ZONES = ["America/New_York", "America/Chicago", "Europe/Berlin"]
#: The night's hours around both transitions (02:00-03:00 is the US gap, 01:00-02:00 its
#: fold; Berlin's gap is 02:00-03:00 and its fold 02:00-03:00).
TIMES = [(0, 30), (1, 0), (1, 30), (1, 59), (2, 0), (2, 30), (2, 59), (3, 0), (23, 0)]


def _transitions(zone: ZoneInfo, year: int) -> tuple[date, date]:
    """(spring-forward day, fall-back day) of ``year`` in ``zone``."""
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(365)]
    changes = []
    for d in days:
        noon = datetime(d.year, d.month, d.day, 12, tzinfo=zone)
        before = datetime(d.year, d.month, d.day, 0, tzinfo=zone)
        if noon.utcoffset() != before.utcoffset():
            changes.append(d)
    spring, fall = changes
    return spring, fall


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("year", [2026, 2027])
def test_each_fixed_time_runs_once_every_local_day_of_the_year(zone_name: str, year: int) -> None:
    zone = ZoneInfo(zone_name)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(seconds=1)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(seconds=1)
    spring, fall = _transitions(zone, year)
    for hour, minute in TIMES:
        fires = LocalCron(f"{minute} {hour} * * *", zone).between(start, end)
        local = [f.astimezone(zone) for f in fires]
        per_day = Counter(x.date() for x in local)
        assert (
            set(per_day.values()) == {1}
            and len(per_day) == (date(year + 1, 1, 1) - date(year, 1, 1)).days
        )
        for x in local:
            wall = (x.hour, x.minute)
            if x.date() == spring and wall != (hour, minute):
                # the time did not exist that night (02:00-03:00 in all three zones):
                # the first instant after the gap
                assert wall == (3, 0) and 2 <= hour < 3, x
            else:
                assert wall == (hour, minute), x
        (on_fall,) = [x for x in local if x.date() == fall]
        assert on_fall.fold == 0  # the first occurrence of a repeated time


def test_the_gap_and_the_fold_in_new_york() -> None:
    ny = ZoneInfo("America/New_York")
    gap = LocalCron("30 2 * * *", ny).after(datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    assert gap.astimezone(ny).isoformat() == "2026-03-08T03:00:00-04:00"
    fold = LocalCron("30 1 * * *", ny).between(
        datetime(2026, 11, 1, 4, 0, tzinfo=UTC), datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
    )
    assert [f.isoformat() for f in fold] == ["2026-11-01T05:30:00+00:00"]  # 01:30 EDT only


def test_first_sundays_and_quarters() -> None:
    ny = ZoneInfo("America/New_York")
    year = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    firsts = [f.astimezone(ny) for f in LocalCron("0 2 * * SUN#1", ny).between(*year)]
    assert len(firsts) == 12 and all(f.weekday() == 6 and f.day <= 7 for f in firsts)
    quarters = LocalCron("0 2 * 1,4,7,10 SUN#1", ny).between(*year)
    assert [f.astimezone(ny).date().isoformat() for f in quarters] == [
        "2027-01-03",
        "2027-04-04",
        "2027-07-04",
        "2027-10-03",
    ]


def test_a_bad_expression_names_itself() -> None:
    with pytest.raises(BadInput, match="bad cron expression '61 2 \\* \\* \\*'"):
        check("61 2 * * *")
    with pytest.raises(ValueError, match="aware"):
        LocalCron("0 2 * * *", ZoneInfo("UTC")).after(datetime(2026, 1, 1))  # noqa: DTZ001
