"""The health calendar: the check every 5 minutes (an interval, 24/7), the deep check on
Sunday at 05:00."""

from __future__ import annotations

from datetime import timedelta

import beat_schedule
from maintenance.config import get_settings


def test_health_check_every_five_minutes_and_deep_on_sunday_at_five() -> None:
    schedule = beat_schedule.build(get_settings())
    check = schedule["health-check"]
    assert check["task"] == "health.check" and check["schedule"] == timedelta(minutes=5)
    # a check stuck behind busy workers past the next one's time is dropped, not run late
    assert 0 < check["options"]["expires"] < 300
    deep = schedule["weekly-deep-health-check"]["schedule"]
    assert schedule["weekly-deep-health-check"]["task"] == "health.deep"
    assert (deep.hour, deep.minute, deep.day_of_week) == ({5}, {0}, {0})  # celery: 0 is Sunday
    assert [e for e in schedule.values() if e["task"].startswith("health.")] == [
        check,
        schedule["weekly-deep-health-check"],
    ]
