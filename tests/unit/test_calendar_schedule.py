"""tasks.schedule.CalendarSchedule, the Celery side of the plan: beat's is_due walks the
same times as next_fire (a simulated beat loop across a DST night), health.check by
elapsed time, and a changed zone neither replays nor drops runs (Celery's real
persistent scheduler, its shelve file on disk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from celery import Celery
from celery.beat import PersistentScheduler

import beat_schedule
from maintenance.calendar import plan
from maintenance.config import load_settings
from tasks.schedule import CalendarSchedule

NY = ZoneInfo("America/New_York")
ENTRIES = {e.name: e for e in beat_schedule.entries(load_settings(log_hosts=["web1"]))}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _beat(name: str, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """Beat's loop for one entry: sleep what is_due says (at most 300 s, beat's
    max_interval), send when due, and remember the send as the last run."""
    clock = Clock(start)
    sched = CalendarSchedule(ENTRIES[name], zone, nowfun=clock)
    last, sent = start, []
    while clock.now < end:
        due, wait = sched.is_due(last)
        if due:
            sent.append(clock.now)
            last = clock.now
        clock.now += timedelta(seconds=min(max(wait, 0.5), 300))
    return sent


def test_is_due_sends_exactly_at_the_plans_times_across_the_spring_forward_night() -> None:
    start, end = datetime(2027, 3, 13, tzinfo=UTC), datetime(2027, 3, 16, tzinfo=UTC)
    for name in ("weekly-window", "daily-log-rotation@web1", "daily-backup", "monthly-window"):
        want = [p.at for p in plan.occurrences([ENTRIES[name]], start, end, NY)]
        assert _beat(name, start, end, NY) == want, name
        assert want or name == "monthly-window", name  # 2027-03-14 is no first Sunday
    # 02:00 on 2027-03-14 does not exist in New York: the weekly window went at 03:00 EDT
    assert _beat("weekly-window", start, end, NY) == [datetime(2027, 3, 14, 7, tzinfo=UTC)]


def test_health_check_runs_by_elapsed_time_across_the_fall_back_hour() -> None:
    start = datetime(2027, 11, 7, 5, 0, 1, tzinfo=UTC)  # 01:00:01 EDT
    sent = _beat("health-check", start, start + timedelta(hours=3), NY)
    gaps = {b - a for a, b in pairwise(sent)}
    assert gaps == {timedelta(minutes=5)}
    assert (sent[0], sent[-1]) == (start + timedelta(minutes=5), start + timedelta(minutes=175))


def test_remaining_estimate_is_the_time_to_next_fire() -> None:
    now = datetime(2027, 6, 1, 12, tzinfo=UTC)
    sched = CalendarSchedule(ENTRIES["daily-backup"], NY, nowfun=Clock(now))
    nxt = plan.next_fire(ENTRIES["daily-backup"], now, NY)
    assert nxt == datetime(2027, 6, 2, 3, tzinfo=UTC)
    assert sched.remaining_estimate(now) == nxt - now
    assert sched.is_due(now - timedelta(days=1)) == (True, (nxt - now).total_seconds())


def _scheduler(tmp: Path, zone: str, clock: Clock) -> PersistentScheduler:
    app = Celery("calendar-test", set_as_current=False)
    app.conf.update(
        timezone=zone,
        enable_utc=True,
        beat_schedule={
            "daily-backup": {
                "task": "backup.create",
                "schedule": CalendarSchedule(ENTRIES["daily-backup"], ZoneInfo(zone), nowfun=clock),
            }
        },
    )
    return PersistentScheduler(app=app, schedule_filename=str(tmp / "beat-schedule"))


def test_a_changed_zone_neither_replays_nor_drops_runs(tmp_path: Path) -> None:
    """Last backup at 23:00 in New York (03:00 UTC); at 20:00 UTC the zone becomes Tokyo,
    where 23:00 that day (14:00 UTC) has already passed. The next backup is the next
    23:00 in Tokyo after now, not that past one replayed."""
    clock = Clock(datetime(2027, 5, 2, 3, 0, 5, tzinfo=UTC))
    first = _scheduler(tmp_path, "America/New_York", clock)
    entry = first.schedule["daily-backup"]
    entry.last_run_at = datetime(2027, 5, 2, 3, tzinfo=UTC)
    first.sync()
    first.close()

    clock.now = datetime(2027, 5, 2, 20, tzinfo=UTC)
    stale = CalendarSchedule(ENTRIES["daily-backup"], ZoneInfo("Asia/Tokyo"), nowfun=clock)
    assert stale.is_due(datetime(2027, 5, 2, 3, tzinfo=UTC)).is_due  # what must not happen

    second = _scheduler(tmp_path, "Asia/Tokyo", clock)
    moved = second.schedule["daily-backup"]
    due, wait = moved.is_due()
    assert not due
    assert clock.now + timedelta(seconds=wait) == datetime(2027, 5, 3, 14, tzinfo=UTC)
    second.close()

    # and the same zone again keeps the stored last run (a restart is not a change)
    clock.now = datetime(2027, 5, 3, 14, 0, 1, tzinfo=UTC)
    third = _scheduler(tmp_path, "Asia/Tokyo", clock)
    assert third.schedule["daily-backup"].is_due().is_due
    third.close()


def test_build_hands_beat_the_calendars_schedules() -> None:
    settings = load_settings(log_hosts=["web1"])
    built = beat_schedule.build(settings)
    assert list(built) == list(ENTRIES)
    for name, item in built.items():
        assert isinstance(item["schedule"], CalendarSchedule)
        assert item["schedule"].entry == ENTRIES[name] and item["schedule"].zone == settings.zone
    assert built["health-check"]["options"]["expires"] == 270
    assert built["daily-log-rotation@web1"]["options"]["queue"] == "logs.web1"
