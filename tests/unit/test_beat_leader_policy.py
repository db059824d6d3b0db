"""Beat's pure decisions: which due occurrences are sent, which are recorded missed, and
the due instants of each kind of schedule (docs/beat.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from celery.schedules import schedule as every

from maintenance.beat.policy import (
    MAX_LISTED,
    CatchUp,
    Due,
    decide,
    due_since,
    resume_from,
    window_end,
)

T0 = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)  # 02:00 in New York
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def daily(t: datetime) -> datetime:
    """The next 07:00 UTC strictly after t."""
    nxt = t.replace(hour=7, minute=0, second=0, microsecond=0)
    return nxt if nxt > t else nxt + DAY


def test_nothing_due_nothing_done() -> None:
    d = decide(Due((), T0), policy=CatchUp.UNTIL_NEXT, now=T0)
    assert d.send is None and d.missed == ()


@pytest.mark.parametrize("policy", list(CatchUp))
def test_an_occurrence_on_time_is_sent_whatever_the_policy(policy: CatchUp) -> None:
    due = Due((T0,), T0 + DAY)
    d = decide(due, policy=policy, now=T0 + timedelta(seconds=30))
    assert d.send == T0 and not d.late and d.missed == ()


def test_on_time_is_a_setting() -> None:
    due = Due((T0,), T0 + DAY)
    late = decide(
        due, policy=CatchUp.NEVER, now=T0 + timedelta(seconds=30), on_time=timedelta(seconds=10)
    )
    assert late.send is None and late.missed == (T0,)


def test_until_next_sends_the_newest_late_one_once_and_records_the_rest() -> None:
    due = due_since(daily, T0 - 3 * DAY, T0 + 5 * HOUR)  # beat down for three nights
    assert due.occurrences == (T0 - 2 * DAY, T0 - DAY, T0) and due.next_due == T0 + DAY
    d = decide(due, policy=CatchUp.UNTIL_NEXT, now=T0 + 5 * HOUR)
    assert d.send == T0 and d.late
    assert d.missed == (T0 - 2 * DAY, T0 - DAY)


def test_until_next_gives_up_once_the_next_is_due() -> None:
    # the caller lists everything due; a "next" at or before now was listed, so the
    # deadline case is a schedule whose next instant is now exactly
    due = Due((T0,), T0 + HOUR)
    assert decide(due, policy="until_next", now=T0 + HOUR).send is None
    assert decide(due, policy="until_next", now=T0 + HOUR - timedelta(seconds=1)).send == T0


def test_until_next_with_no_further_occurrence_always_catches_up() -> None:
    d = decide(Due((T0,), None), policy=CatchUp.UNTIL_NEXT, now=T0 + 30 * DAY)
    assert d.send == T0 and d.late


def test_in_window_only_while_the_window_lasts() -> None:
    due = Due((T0 - DAY, T0), T0 + DAY)
    inside = decide(due, policy=CatchUp.IN_WINDOW, now=T0 + HOUR, within=2 * HOUR)
    assert inside.send == T0 and inside.missed == (T0 - DAY,) and inside.late
    after = decide(due, policy=CatchUp.IN_WINDOW, now=T0 + 3 * HOUR, within=2 * HOUR)
    assert after.send is None and after.missed == (T0 - DAY, T0)
    assert "window has ended" in after.reason
    unknown = decide(due, policy=CatchUp.IN_WINDOW, now=T0 + HOUR, within=None)
    assert unknown.send is None


def test_never_records_every_late_one() -> None:
    due = Due((T0 - DAY, T0), T0 + DAY)
    d = decide(due, policy=CatchUp.NEVER, now=T0 + HOUR)
    assert d.send is None and d.missed == (T0 - DAY, T0)


def test_a_calendar_catch_up_value_works_too() -> None:
    from enum import StrEnum

    class Theirs(StrEnum):  # maintenance.calendar.model.CatchUp has the same values
        UNTIL_NEXT = "until_next"

    d = decide(Due((T0,), T0 + DAY), policy=Theirs.UNTIL_NEXT, now=T0 + HOUR)
    assert d.send == T0


def test_due_since_is_strictly_after_the_last_claim_and_bounded() -> None:
    assert due_since(daily, T0, T0 + HOUR).occurrences == ()
    assert due_since(daily, T0 - timedelta(seconds=1), T0).occurrences == (T0,)
    minutely = lambda t: t.replace(second=0, microsecond=0) + timedelta(minutes=1)  # noqa: E731
    many = due_since(minutely, T0 - timedelta(minutes=MAX_LISTED + 10), T0)
    assert len(many.occurrences) == MAX_LISTED and many.uncounted == 10
    assert many.occurrences[-1] == T0


def test_a_schedule_that_does_not_advance_is_refused() -> None:
    with pytest.raises(ValueError, match="does not advance"):
        due_since(lambda t: T0, T0 - HOUR, T0 + HOUR)


# --- due instants of Celery schedules (tasks.beat) -------------------------------------


def test_crontab_due_instant_is_celerys_next_run(celery_app_tz: None) -> None:
    from tasks.beat import due_after

    sched = crontab(hour=2, minute=0)
    ny = ZoneInfo("America/New_York")
    last = datetime(2026, 12, 5, 2, 0, tzinfo=ny)
    assert due_after(sched, last) == datetime(2026, 12, 6, 2, 0, tzinfo=ny).astimezone(UTC)
    # a moment just before it: that day's
    assert due_after(sched, datetime(2026, 12, 6, 1, 59, 30, tzinfo=ny)) == T0


def test_interval_instants_are_aligned_so_every_beat_agrees() -> None:
    from tasks.beat import due_after

    five = every(timedelta(minutes=5))
    a = due_after(five, datetime(2026, 12, 6, 7, 1, 13, tzinfo=UTC))
    b = due_after(five, datetime(2026, 12, 6, 7, 4, 59, tzinfo=UTC))
    assert a == b == datetime(2026, 12, 6, 7, 5, tzinfo=UTC)
    assert due_after(five, a) == datetime(2026, 12, 6, 7, 10, tzinfo=UTC)


def test_an_exact_schedule_is_asked_directly() -> None:
    from tasks.beat import due_after

    class Exact:
        def due_after(self, moment: datetime) -> datetime:
            return moment + timedelta(seconds=7)

    assert due_after(Exact(), T0) == T0 + timedelta(seconds=7)


def test_the_calendars_adapter_is_asked_and_its_intervals_share_the_grid() -> None:
    """tasks.schedule.CalendarSchedule: ``next_after`` and the Entry it carries."""
    from types import SimpleNamespace

    from tasks.beat import due_after, meta_of

    class Adapter:
        def __init__(self, every_s: float | None) -> None:
            self.entry = SimpleNamespace(every_s=every_s, catch_up="in_window", window="weekly")

        def next_after(self, moment: datetime) -> datetime:
            return moment + timedelta(seconds=90)  # elapsed from the last send

    assert due_after(Adapter(None), T0) == T0 + timedelta(seconds=90)
    health = Adapter(300.0)
    started = datetime(2026, 12, 6, 7, 1, 13, tzinfo=UTC)
    assert due_after(health, started) == datetime(2026, 12, 6, 7, 5, tzinfo=UTC)
    step = meta_of(SimpleNamespace(options={}, schedule=Adapter(None)))
    assert not step.interval and step.catch_up is CatchUp.IN_WINDOW
    assert meta_of(SimpleNamespace(options={}, schedule=health)).interval


def test_entry_policies_default_by_kind() -> None:
    from types import SimpleNamespace

    from tasks.beat import meta_of

    cron = meta_of(SimpleNamespace(options={}, schedule=crontab(hour=23, minute=0)))
    assert not cron.interval and cron.catch_up is CatchUp.UNTIL_NEXT
    health = meta_of(SimpleNamespace(options={}, schedule=every(timedelta(minutes=5))))
    assert health.interval and health.catch_up is CatchUp.NEVER
    step = meta_of(
        SimpleNamespace(
            options={"maint_catch_up": "in_window", "maint_catch_up_within_s": 1800},
            schedule=crontab(hour=2, minute=30),
        )
    )
    assert step.catch_up is CatchUp.IN_WINDOW and step.within == timedelta(minutes=30)


def test_occurrence_ids_are_the_same_in_every_beat() -> None:
    from tasks.beat import occurrence_id

    ny = T0.astimezone(ZoneInfo("America/New_York"))
    assert occurrence_id("daily-backup", T0) == occurrence_id("daily-backup", ny)
    assert occurrence_id("daily-backup", T0) != occurrence_id("daily-backup", T0 + DAY)
    assert occurrence_id("daily-backup", T0) != occurrence_id("weekly-backup", T0)


@pytest.fixture
def celery_app_tz() -> None:
    """crontab reads the app's zone (MAINT_TIMEZONE: America/New_York in the tests)."""
    from tasks.app import app

    assert str(app.timezone) == "America/New_York"


def test_a_window_steps_deadline_is_the_end_of_that_nights_window() -> None:
    ny = ZoneInfo("America/New_York")
    step = datetime(2026, 12, 6, 2, 30, tzinfo=ny)  # Sunday: the weekly window, 02:00-06:00
    assert window_end("weekly", step, ny) == datetime(2026, 12, 6, 6, 0, tzinfo=ny)
    assert window_end("weekly", datetime(2026, 12, 6, 7, 0, tzinfo=ny), ny) is None  # after it
    assert window_end("weekly", datetime(2026, 12, 7, 2, 30, tzinfo=ny), ny) is None  # Monday
    assert window_end("daily", datetime(2026, 12, 7, 2, 30, tzinfo=ny), ny) == datetime(
        2026, 12, 7, 3, 0, tzinfo=ny
    )
    assert window_end("no-such-window", step, ny) is None


def test_a_changed_zone_resumes_from_now_and_replays_nothing() -> None:
    from maintenance.calendar.model import job
    from maintenance.calendar.plan import next_fire

    backup = job("daily-backup", "backup.create", "0 23 * * *", tier="daily")
    last = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)  # 23:00 in New York, claimed
    now = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)  # beat restarted in Chicago
    chicago = ZoneInfo("America/Chicago")
    # resumed from the claim, Chicago's 23:00 of the same night would be due: a replay
    replay = next_fire(backup, last, chicago)
    assert replay == datetime(2026, 12, 8, 5, 0, tzinfo=UTC) and replay < now
    base = resume_from(last, last, now, zone_changed=True)
    assert base == now and next_fire(backup, base, chicago) == datetime(
        2026, 12, 9, 5, 0, tzinfo=UTC
    )
    assert resume_from(last, now, now, zone_changed=False) == last
    assert resume_from(None, last, now, zone_changed=False) == last  # never claimed: anchor
