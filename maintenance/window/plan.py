"""The pure plan of one window run (docs/calendar.md, "window.run"): which steps, in
which order, which are skipped and why. Nothing is read or sent here.

* **Steps**: the calendar's entries whose ``window`` is the kind, in slot order (the
  window's slots; the quarterly window uses the monthly window's slots), then in the
  calendar's order inside a slot.
* **Dependencies** are data (:data:`AFTER`): a step runs only after every step of this
  window that runs a task it depends on has succeeded; otherwise it is skipped with the
  reason. A failed step does not stop steps that do not depend on it.
* **Buffer**: a disruptive step that has not started by the start of the window's last
  slot (its buffer) is skipped.
* **Blackout**: disruptive steps are skipped, read-only ones run; ``force_reason``
  overrides the blackout (not the buffer) and is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from maintenance.calendar import blackout
from maintenance.calendar.model import Entry
from maintenance.windows import WINDOWS, Slot, WindowKind, span

#: task -> the tasks whose steps in the same window must have succeeded first.
AFTER: Mapping[str, tuple[str, ...]] = {
    "backup.archive": ("backup.create",),
    "backup.offsite": ("backup.create",),
}

SUCCEEDED = "succeeded"


def slots_of(kind: WindowKind) -> tuple[Slot, ...]:
    """The window's slots; the quarterly window is the monthly window's, plus its own."""
    own = WINDOWS[kind].slots
    if not own and kind is WindowKind.QUARTERLY:
        return WINDOWS[WindowKind.MONTHLY].slots
    return own


def steps(entries: Sequence[Entry], kind: WindowKind) -> list[Entry]:
    """The window's steps in slot order (an unknown slot title: after the known ones)."""
    titles = [s.title for s in slots_of(kind)]
    mine = [(n, e) for n, e in enumerate(entries) if e.window == kind.value]

    def key(item: tuple[int, Entry]) -> tuple[int, int]:
        n, e = item
        return (titles.index(e.slot) if e.slot in titles else len(titles), n)

    return [e for _, e in sorted(mine, key=key)]


@dataclass(frozen=True)
class Span:
    """Where the run's window lies: ``start``/``end`` (aware, UTC) and its slots'
    starts and ends as offsets kept from the window's own schedule."""

    kind: WindowKind
    day: date
    scheduled_start: datetime
    start: datetime
    end: datetime

    def slot_bounds(self, slot: Slot) -> tuple[datetime, datetime]:
        base = datetime.combine(self.day, WINDOWS[self.kind].start)
        s = self.start + (datetime.combine(self.day, slot.start) - base)
        e = self.start + (datetime.combine(self.day, slot.end) - base)
        return s, e

    @property
    def buffer_start(self) -> datetime | None:
        """The start of the last slot (the buffer), or None (a window without slots)."""
        slots = slots_of(self.kind)
        return self.slot_bounds(slots[-1])[0] if slots else None


def window_span(
    kind: WindowKind,
    day: date,
    zone: ZoneInfo,
    now: datetime,
    duration: timedelta | None = None,
    *,
    scheduled: bool = False,
) -> Span:
    """The run's span: the scheduled one when ``now`` lies inside it (a late start keeps
    the planned end) or when ``scheduled`` (beat's run: always the night's own span),
    otherwise one that starts ``now`` (a run started by hand at another time keeps the
    window's length and slot offsets). An emergency starts now."""
    begin, end = span(kind, day, zone)
    begin, end = begin.astimezone(UTC), end.astimezone(UTC)
    if kind is WindowKind.EMERGENCY or not (scheduled or begin <= now < end):
        length = duration if duration is not None else end - begin
        return Span(kind, day, begin, now.astimezone(UTC), now.astimezone(UTC) + length)
    return Span(kind, day, begin, begin, end)


def blackout_reasons(sp: Span, zone: ZoneInfo, facts: blackout.Blackouts) -> list[str]:
    """Why the night (its scheduled start) or the run's actual start is a blackout."""
    out: list[str] = []
    for moment in (sp.scheduled_start, sp.start):
        for reason in blackout.reasons(moment, zone, facts):
            if reason not in out:
                out.append(reason)
    return out


@dataclass(frozen=True)
class Decision:
    """A step's fate now: ``skip`` (the reason) or run; ``waits_for``: predecessors
    whose outcome is not known yet (a dry run shows them)."""

    entry: Entry
    slot: str | None
    skip: str | None
    waits_for: tuple[str, ...] = ()


def decide(
    entry: Entry,
    *,
    window_steps: Sequence[Entry],
    outcomes: Mapping[str, str],
    blackouts: Sequence[str],
    force_reason: str | None,
    now: datetime,
    buffer_start: datetime | None,
    after: Mapping[str, tuple[str, ...]] = AFTER,
) -> Decision:
    """Whether ``entry`` runs now, given the outcomes so far (entry name -> status)."""
    waits: list[str] = []
    for task in after.get(entry.task, ()):
        for before in window_steps:
            if before.task != task or before.name == entry.name:
                continue
            status = outcomes.get(before.name)
            if status is None:
                waits.append(before.name)
            elif status != SUCCEEDED:
                return Decision(
                    entry,
                    entry.slot,
                    f"after {before.name} ({task}), which did not succeed ({status})",
                )
    if entry.disruptive:
        if blackouts and not (force_reason and force_reason.strip()):
            return Decision(entry, entry.slot, "blackout: " + "; ".join(blackouts))
        if buffer_start is not None and now >= buffer_start:
            local = buffer_start.isoformat(timespec="minutes")
            return Decision(
                entry,
                entry.slot,
                f"disruptive and not started by the start of the buffer ({local})",
            )
    return Decision(entry, entry.slot, None, tuple(waits))


def plan(
    entries: Sequence[Entry],
    kind: WindowKind,
    *,
    outcomes: Mapping[str, str],
    blackouts: Sequence[str],
    force_reason: str | None,
    now: datetime,
    buffer_start: datetime | None,
    after: Mapping[str, tuple[str, ...]] = AFTER,
) -> list[Decision]:
    """Every step of the window, in order, with its decision at ``now`` (a dry run)."""
    ordered = steps(entries, kind)
    return [
        decide(
            e,
            window_steps=ordered,
            outcomes=outcomes,
            blackouts=blackouts,
            force_reason=force_reason,
            now=now,
            buffer_start=buffer_start,
            after=after,
        )
        for e in ordered
    ]


def status_updates_due(kind: WindowKind, slot: Slot, previous_end: Slot | None) -> list[str]:
    """The status-update times (HH:MM, local wall) that fall after the previous slot's
    end and no later than ``slot``'s end: sent once the slot is done."""
    low = previous_end.end if previous_end is not None else WINDOWS[kind].start
    return [t.strftime("%H:%M") for t in WINDOWS[kind].status_updates if low < t <= slot.end]
