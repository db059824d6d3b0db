"""The cache's calendar: cache.stats daily, cache.analyze on Sunday at 04:00 (system time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import beat_schedule
from maintenance.config import get_settings
from tasks.app import app


def _fires(entry: dict, moment: datetime) -> bool:  # type: ignore[type-arg]
    s = entry["schedule"]
    return (
        moment.minute in s.minute
        and moment.hour in s.hour
        and moment.isoweekday() % 7 in s.day_of_week
        and moment.day in s.day_of_month
        and moment.month in s.month_of_year
    )


def test_cache_stats_runs_once_every_day_and_analyze_on_sunday_at_four() -> None:
    app.loader.import_default_modules()
    schedule = beat_schedule.build(get_settings())
    by_task: dict[str, list[tuple[str, dict]]] = {}  # type: ignore[type-arg]
    for name, entry in schedule.items():
        by_task.setdefault(entry["task"], []).append((name, entry))
    (stats,) = by_task["cache.stats"]
    (analyze,) = by_task["cache.analyze"]
    assert stats[1]["kwargs"] == {} and analyze[1]["kwargs"] == {}
    for _, entry in (stats, analyze):
        assert entry["task"] in app.tasks
        assert entry["options"]["headers"]["maint_trigger"] == "beat"
    minute = datetime(2026, 1, 1, tzinfo=UTC)  # the fields only: any zone will do
    stats_days: dict[object, int] = {}
    analyze_at = []
    while minute.year < 2027:
        if _fires(stats[1], minute):
            stats_days[minute.date()] = stats_days.get(minute.date(), 0) + 1
        if _fires(analyze[1], minute):
            analyze_at.append(minute)
        minute += timedelta(minutes=1)
    assert len(stats_days) == 365 and set(stats_days.values()) == {1}
    assert len(analyze_at) == 52
    assert all(m.isoweekday() == 7 and (m.hour, m.minute) == (4, 0) for m in analyze_at)


def test_no_cache_deletion_is_on_the_calendar() -> None:
    """Clearing and flushing are a person's (or a window's) decision, never beat's."""
    tasks = {e["task"] for e in beat_schedule.build(get_settings()).values()}
    assert not tasks & {"cache.clear", "cache.clear_pattern", "cache.flush"}
