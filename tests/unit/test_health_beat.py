"""The health calendar: the check every 5 minutes (elapsed time, 24/7), the deep check on
Sunday at 05:00."""

from __future__ import annotations

import beat_schedule
from maintenance.config import get_settings


def test_health_check_every_five_minutes_and_deep_on_sunday_at_five() -> None:
    entries = {e.name: e for e in beat_schedule.entries(get_settings())}
    schedule = beat_schedule.build(get_settings())
    check = entries["health-check"]
    assert check.task == "health.check" and check.every_s == 300 and check.cron is None
    # a check stuck behind busy workers past the next one's time is dropped, not run late
    assert 0 < schedule["health-check"]["options"]["expires"] < 300
    deep = entries["weekly-deep-health-check"]
    assert deep.task == "health.deep" and deep.cron == "0 5 * * SUN" and deep.window is None
    assert [e for e in entries.values() if e.task.startswith("health.")] == [check, deep]
