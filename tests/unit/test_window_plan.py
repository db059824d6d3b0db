"""window.run's pure plan: steps in slot order, dependencies as data, the buffer, the
blackout and force_reason (no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import beat_schedule
from maintenance.calendar import blackout
from maintenance.calendar.model import Entry, step
from maintenance.window import plan
from maintenance.windows import WINDOWS, WindowKind

NY = ZoneInfo("America/New_York")
SUNDAY = date(2027, 3, 7)  # a first Sunday (monthly), not a quarter


def _entries() -> list[Entry]:
    """The window steps of the real calendar (beat_schedule.entries minus standalone jobs)."""
    return [
        *beat_schedule.weekly_steps(),
        *beat_schedule.monthly_steps("monthly"),
        *beat_schedule.monthly_steps("quarterly"),
    ]


def _decide(entry: Entry, ordered: list[Entry], **kw: object) -> plan.Decision:
    args: dict[str, object] = {
        "window_steps": ordered,
        "outcomes": {},
        "blackouts": [],
        "force_reason": None,
        "now": datetime(2027, 3, 7, 8, tzinfo=UTC),
        "buffer_start": datetime(2027, 3, 7, 12, tzinfo=UTC),
    }
    args.update(kw)
    return plan.decide(entry, **args)  # type: ignore[arg-type]


def test_steps_are_the_windows_own_in_slot_order() -> None:
    shuffled = list(reversed(_entries()))
    monthly = plan.steps(shuffled, WindowKind.MONTHLY)
    assert {e.window for e in monthly} == {"monthly"}
    titles = [s.title for s in WINDOWS[WindowKind.MONTHLY].slots]
    order = [titles.index(e.slot or "") for e in monthly]
    assert order == sorted(order)
    assert monthly[0].slot == "Backups"
    quarterly = plan.steps(_entries(), WindowKind.QUARTERLY)
    assert "quarterly-dr-test" in [e.name for e in quarterly]
    assert [e.name for e in quarterly][:4] == [
        "quarterly-backup",
        "quarterly-retention",
        "quarterly-archive",
        "quarterly-offsite",
    ]
    weekly = plan.steps(_entries(), WindowKind.WEEKLY)
    assert weekly[0].name == "weekly-vacuum-analyze"
    assert all(e.window == "weekly" for e in weekly)


def test_archive_and_offsite_wait_for_the_nights_backup() -> None:
    ordered = plan.steps(_entries(), WindowKind.MONTHLY)
    archive = next(e for e in ordered if e.task == "backup.archive")
    offsite = next(e for e in ordered if e.task == "backup.offsite")
    pending = _decide(archive, ordered)
    assert pending.skip is None and pending.waits_for == ("monthly-backup",)
    ok = _decide(archive, ordered, outcomes={"monthly-backup": "succeeded"})
    assert ok.skip is None and ok.waits_for == ()
    for status in ("failed", "skipped", "lost"):
        bad = _decide(offsite, ordered, outcomes={"monthly-backup": status})
        assert bad.skip == f"after monthly-backup (backup.create), which did not succeed ({status})"
    # an independent step is not held back by a failed one
    report = next(e for e in ordered if e.task == "db.report")
    assert _decide(report, ordered, outcomes={"monthly-backup": "failed"}).skip is None


def test_dependencies_are_data() -> None:
    ordered = plan.steps(_entries(), WindowKind.WEEKLY)
    audit = next(e for e in ordered if e.task == "security.audit")
    after = {"security.audit": ("db.report",)}
    d = _decide(audit, ordered, outcomes={"weekly-report": "failed"}, after=after)
    assert d.skip is not None and "weekly-report" in d.skip
    assert _decide(audit, ordered, outcomes={"weekly-report": "failed"}).skip is None


def test_blackout_skips_disruptive_steps_only_unless_forced() -> None:
    ordered = plan.steps(_entries(), WindowKind.WEEKLY)
    reindex = next(e for e in ordered if e.task == "db.reindex")
    backup = next(e for e in ordered if e.task == "backup.create")
    assert reindex.disruptive and not backup.disruptive
    reasons = ["July 1 (fiscal year start)"]
    assert (
        _decide(reindex, ordered, blackouts=reasons).skip == "blackout: July 1 (fiscal year start)"
    )
    assert _decide(backup, ordered, blackouts=reasons).skip is None
    assert _decide(reindex, ordered, blackouts=reasons, force_reason="CVE fix").skip is None
    assert _decide(reindex, ordered, blackouts=reasons, force_reason="  ").skip is not None


def test_a_disruptive_step_not_started_by_the_buffer_is_skipped() -> None:
    ordered = plan.steps(_entries(), WindowKind.WEEKLY)
    reindex = next(e for e in ordered if e.task == "db.reindex")
    backup = next(e for e in ordered if e.task == "backup.create")
    buffer = datetime(2027, 3, 7, 10, 30, tzinfo=UTC)
    late = buffer + timedelta(seconds=1)
    d = _decide(reindex, ordered, now=late, buffer_start=buffer)
    assert d.skip is not None and "buffer" in d.skip
    assert (
        _decide(reindex, ordered, now=buffer - timedelta(seconds=1), buffer_start=buffer).skip
        is None
    )
    # force_reason overrides a blackout, not the buffer; read-only steps still run
    assert _decide(reindex, ordered, now=late, buffer_start=buffer, force_reason="x").skip
    assert _decide(backup, ordered, now=late, buffer_start=buffer).skip is None


def test_span_scheduled_or_anchored_now() -> None:
    day = date(2027, 3, 14)  # the spring-forward Sunday: 02:00 is 03:00 EDT
    inside = datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT
    sp = plan.window_span(WindowKind.WEEKLY, day, NY, inside)
    assert sp.start == sp.scheduled_start == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    assert sp.end - sp.start == timedelta(hours=4)
    assert sp.buffer_start == sp.start + timedelta(hours=3, minutes=30)
    elsewhere = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    moved = plan.window_span(WindowKind.WEEKLY, day, NY, elsewhere)
    assert moved.start == elsewhere and moved.end == elsewhere + timedelta(hours=4)
    assert moved.scheduled_start == sp.scheduled_start
    em = plan.window_span(WindowKind.EMERGENCY, day, NY, elsewhere, timedelta(minutes=90))
    assert em.start == elsewhere and em.end == elsewhere + timedelta(minutes=90)
    assert em.buffer_start is None


def test_blackout_reasons_of_the_night_and_of_now() -> None:
    night = date(2027, 7, 4)
    sp = plan.window_span(WindowKind.WEEKLY, night, NY, datetime(2027, 7, 1, 15, tzinfo=UTC))
    facts = blackout.Blackouts(extra_dates=[night])
    reasons = plan.blackout_reasons(sp, NY, facts)
    assert reasons[0].startswith("blackout date 2027-07-04")
    assert "July 1 (fiscal year start)" in reasons
    assert plan.blackout_reasons(sp, NY, blackout.Blackouts(extra_dates=[date(2027, 7, 11)])) == [
        "July 1 (fiscal year start)"
    ]


def test_status_updates_follow_the_slots() -> None:
    weekly = WINDOWS[WindowKind.WEEKLY].slots
    got = []
    prev = None
    for s in weekly:
        got.append(plan.status_updates_due(WindowKind.WEEKLY, s, prev))
        prev = s
    assert got == [[], ["03:00"], ["04:00"], [], []]
    monthly = WINDOWS[WindowKind.MONTHLY].slots
    got, prev = [], None
    for s in monthly:
        got.append(plan.status_updates_due(WindowKind.MONTHLY, s, prev))
        prev = s
    assert got == [["03:00"], ["04:00"], ["05:00"], ["06:00"], ["07:00"], []]
    assert plan.slots_of(WindowKind.QUARTERLY) == monthly
    assert WINDOWS[WindowKind.MONTHLY].slots[-1].start == time(7, 0)


def test_plan_of_a_window_with_an_unknown_slot_puts_it_last() -> None:
    odd = dataclasses.replace(step("x", "db.stats", "0 2 * * SUN", "weekly", "Nowhere"))
    ordered = plan.steps([odd, *beat_schedule.weekly_steps()], WindowKind.WEEKLY)
    assert ordered[-1].name == "x"
    decisions = plan.plan(
        [odd, *beat_schedule.weekly_steps()],
        WindowKind.WEEKLY,
        outcomes={},
        blackouts=["July 1 (fiscal year start)"],
        force_reason=None,
        now=datetime(2027, 3, 7, 8, tzinfo=UTC),
        buffer_start=None,
    )
    assert [d.entry.name for d in decisions] == [e.name for e in ordered]
    skipped = {d.entry.name for d in decisions if d.skip}
    assert skipped == {"weekly-reindex"}
