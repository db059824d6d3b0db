"""``maint schedule --check``: what is wrong with a calendar, as a list of problems
(pure; empty: nothing).

* duplicate entry names (beat keys its schedule by name: one would vanish);
* unknown task names;
* a bad cron expression, or an entry with neither or both of cron and interval;
* a window (``window.run``) or step of an unknown window, or one whose cron time falls
  outside its slot (or outside its window), or that is not planned on one of its
  window's nights;
* a window's steps with no ``window.run`` entry to run them, or a ``window.run`` entry
  whose ``kind`` is not its window;
* overlapping windows: a night's window still running when the next one starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from maintenance.calendar.cron import LocalCron
from maintenance.calendar.cron import check as check_cron
from maintenance.calendar.model import WINDOW_TASK, Entry, is_step
from maintenance.calendar.plan import night_window, occurrences
from maintenance.errors import BadInput
from maintenance.windows import WINDOWS, Slot, WindowKind, span

UTC_ZONE = ZoneInfo("UTC")
#: A year of nights, in a zone without DST (wall times as written).
SAMPLE = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def slots(kind: WindowKind) -> tuple[Slot, ...]:
    """A window's slots; the quarterly window is the monthly one plus its own steps."""
    own = WINDOWS[kind].slots
    return own or (WINDOWS[WindowKind.MONTHLY].slots if kind is WindowKind.QUARTERLY else ())


def _in(wall: time, start: time, end: time) -> bool:
    return start <= wall < end


def problems(
    calendar: Sequence[Entry], known_tasks: Collection[str], steps: Sequence[Entry] = ()
) -> list[str]:
    """The problems of beat's ``calendar`` and the windows' ``steps`` together."""
    out: list[str] = []
    everything = [*calendar, *steps]
    for name, n in sorted(Counter(e.name for e in everything).items()):
        if n > 1:
            out.append(f"{name}: {n} entries have this name")
    runs = {e.window for e in calendar if e.task == WINDOW_TASK}
    for e in calendar:
        if e.task == WINDOW_TASK and e.kwargs.get("kind") != e.window:
            out.append(
                f"{e.name}: window.run of kind {e.kwargs.get('kind')!r} on {e.window} nights"
            )
        elif is_step(e):
            out.append(f"{e.name}: a step of the {e.window} window among beat's entries")
    for kind in sorted({e.window for e in steps if e.window} - runs):
        out.append(f"the {kind} window has steps but no window.run entry: they never run")
    good: list[Entry] = []
    for e in everything:
        if e.task not in known_tasks:
            out.append(f"{e.name}: unknown task {e.task!r}")
        if (e.cron is None) == (e.every_s is None):
            out.append(f"{e.name}: needs exactly one of a cron expression and an interval")
            continue
        if e.every_s is not None and e.every_s <= 0:
            out.append(f"{e.name}: interval must be positive")
            continue
        if e.cron is not None:
            try:
                check_cron(e.cron)
            except BadInput as exc:
                out.append(f"{e.name}: {exc}")
                continue
        good.append(e)
    for e in good:
        if e.announces is not None:
            out.extend(_notice_problems(e))
        if e.window is None:
            continue
        try:
            kind = WindowKind(e.window)
        except ValueError:
            out.append(f"{e.name}: unknown window {e.window!r}")
            continue
        out.extend(_step_problems(e, kind))
    out.extend(_overlaps())
    return out


def _step_problems(e: Entry, kind: WindowKind) -> list[str]:
    assert e.cron is not None
    window = WINDOWS[kind]
    begin = window.start
    end_dt = datetime.combine(date(2027, 1, 1), begin) + window.duration
    end = end_dt.time() if end_dt.date() == date(2027, 1, 1) else time.max
    out = []
    walls = {m.time() for m in LocalCron(e.cron, UTC_ZONE).between(*SAMPLE)}
    for wall in sorted(walls):
        if not _in(wall, begin, end):
            out.append(
                f"{e.name}: {wall:%H:%M} is outside the {kind} window "
                f"({begin:%H:%M}-{end_dt:%H:%M})"
            )
            continue
        titled = [s for s in slots(kind) if s.title == e.slot] if e.slot else []
        if e.slot and not titled:
            out.append(f"{e.name}: the {kind} window has no slot {e.slot!r}")
        elif titled and not _in(wall, titled[0].start, titled[0].end):
            s = titled[0]
            out.append(
                f"{e.name}: {wall:%H:%M} is outside its slot {s.title!r} "
                f"({s.start:%H:%M}-{s.end:%H:%M})"
            )
    nights = {
        d for d in (SAMPLE[0].date() + timedelta(n) for n in range(365)) if night_window(d) is kind
    }
    sent = {p.at.date() for p in occurrences([e], *SAMPLE, UTC_ZONE)}
    if nights - sent:
        first = min(nights - sent)
        out.append(f"{e.name}: not sent on every {kind} night (e.g. {first.isoformat()})")
    return out


def _overlaps() -> list[str]:
    """Windows that overlap: a night's window still running when the next night's
    starts (one night, one window keeps two windows off one night)."""
    out = []
    day = SAMPLE[0].date()
    while day < SAMPLE[1].date():
        kind, following = night_window(day), night_window(day + timedelta(days=1))
        _, end = span(kind, day, UTC_ZONE)
        start, _ = span(following, day + timedelta(days=1), UTC_ZONE)
        if end > start:
            out.append(
                f"overlapping windows: the {kind} window of {day} runs into the {following} one"
            )
        day += timedelta(days=1)
    return out


def _notice_problems(e: Entry) -> list[str]:
    try:
        kind = WindowKind(e.announces or "")
    except ValueError:
        return [f"{e.name}: announces an unknown window {e.announces!r}"]
    nights = {
        d
        for d in (SAMPLE[0].date() + timedelta(n) for n in range(e.lead_days, 365))
        if night_window(d) is kind
    }
    announced = {
        p.at.date() + timedelta(days=e.lead_days) for p in occurrences([e], *SAMPLE, UTC_ZONE)
    }
    if nights - announced:
        first = min(nights - announced)
        return [f"{e.name}: does not announce every {kind} night (e.g. {first.isoformat()})"]
    return []
