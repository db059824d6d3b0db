"""The cache's calendar: cache.stats daily, cache.analyze on Sunday at 04:00 (system time)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import beat_schedule
from maintenance.calendar import plan
from maintenance.config import get_settings
from tasks.app import app

ZONE = ZoneInfo("America/Chicago")


def test_cache_stats_runs_once_every_day_and_analyze_on_sunday_at_four() -> None:
    app.loader.import_default_modules()
    schedule = beat_schedule.build(get_settings())
    entries = beat_schedule.entries(get_settings())
    (stats,) = [e for e in entries if e.task == "cache.stats"]
    (analyze,) = [e for e in entries if e.task == "cache.analyze"]
    assert stats.kwargs == {} and analyze.kwargs == {}
    for e in (stats, analyze):
        assert e.task in app.tasks
        assert schedule[e.name]["options"]["headers"]["maint_trigger"] == "beat"
    year = (datetime(2026, 1, 1, 6, tzinfo=UTC), datetime(2027, 1, 1, 6, tzinfo=UTC))
    stats_days = Counter(
        p.at.astimezone(ZONE).date() for p in plan.occurrences([stats], *year, ZONE)
    )
    analyze_at = [p.at.astimezone(ZONE) for p in plan.occurrences([analyze], *year, ZONE)]
    assert len(stats_days) == 365 and set(stats_days.values()) == {1}
    assert len(analyze_at) == 52
    assert all(m.isoweekday() == 7 and (m.hour, m.minute) == (4, 0) for m in analyze_at)


def test_no_cache_deletion_is_on_the_calendar() -> None:
    """Clearing and flushing are a person's (or a window's) decision, never beat's."""
    tasks = {e["task"] for e in beat_schedule.build(get_settings()).values()}
    assert not tasks & {"cache.clear", "cache.clear_pattern", "cache.flush"}


def test_every_task_beat_sent_before_the_calendar_is_still_sent() -> None:
    before = {
        "db.stats",
        "backup.create",
        "backup.archive",
        "backup.offsite",
        "restore.drill",
        "cache.stats",
        "cache.analyze",
        "backup.retention",
        "db.vacuum_analyze",
        "db.reindex",
        "db.report",
        "security.audit",
        "security.access_review",
        "logs.rotate",
        "logs.cleanup",
        "logs.report",
        "health.check",
        "health.deep",
    }
    calendar = [*beat_schedule.entries(get_settings()), *beat_schedule.steps(get_settings())]
    assert before <= {e.task for e in calendar}
    tiers = {e.kwargs.get("tier") for e in calendar}
    assert {"daily", "weekly", "monthly"} <= tiers
