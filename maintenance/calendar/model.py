"""What beat sends, as data (docs/calendar.md): one :class:`Entry` per standalone job,
advance notice and window (``window.run``), and per window step (what ``window.run``
runs, in slot order; beat never sends a step itself). Pure: nothing is read or sent
here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CatchUp(StrEnum):
    """How late a missed occurrence may still be sent (beat's missed-run rule)."""

    UNTIL_NEXT = "until_next"  # until the entry's next occurrence is due (a backup)
    IN_WINDOW = "in_window"  # only inside its window (a window step)
    NEVER = "never"  # never late (an interval: the next one comes soon)


#: Tasks that take locks the application waits for, or make it unavailable: a blackout
#: skips them. ``db.reindex`` rebuilds every index of a table (CONCURRENTLY, but with
#: locks that block DDL and vacuum and a wait for every running transaction at the swap,
#: and hours of I/O); ``db.optimize`` rewrites tables under ACCESS EXCLUSIVE locks; the
#: cache deletions empty what the application reads; ``restore.run`` replaces a
#: database. Everything else beat sends only reads (backups, verification, health,
#: reports, statistics, reviews) or works on copies (``restore.drill``).
DISRUPTIVE: frozenset[str] = frozenset(
    {
        "db.optimize",
        "db.reindex",
        "cache.flush",
        "cache.clear",
        "cache.clear_pattern",
        "restore.run",
    }
)


@dataclass(frozen=True)
class Entry:
    """One thing on the calendar: a standalone job, an advance notice or a window that
    beat sends, or a window's step (``window`` set, task not ``window.run``) that the
    window's run executes; a step's cron is its planned local time inside its slot."""

    name: str  # stable, unique: "daily-backup", "weekly-reindex" ...
    task: str
    kwargs: Mapping[str, Any]
    queue: str | None = None  # None: MAINT_QUEUE
    cron: str | None = None  # local-time cron (LocalCron), or None for an interval
    every_s: float | None = None  # elapsed interval (health.check: 300)
    catch_up: CatchUp = CatchUp.UNTIL_NEXT
    window: str | None = None  # the window kind of a step or of window.run (None: standalone)
    disruptive: bool = False
    expires_s: float | None = None  # message expiry (health.check: 270)
    #: The title of the window slot a step belongs to (``maint schedule --check``).
    slot: str | None = None
    #: Shown by ``maint schedule``: why the entry exists.
    note: str = field(default="", compare=False)
    #: An advance notice: the window kind it announces, ``lead_days`` after its send;
    #: sent only when that night's window is this kind (no weekly notice for a Sunday
    #: that will be a monthly window).
    announces: str | None = None
    lead_days: int = 0


def job(
    name: str,
    task: str,
    cron: str,
    *,
    queue: str | None = None,
    catch_up: CatchUp = CatchUp.UNTIL_NEXT,
    note: str = "",
    **kwargs: Any,
) -> Entry:
    """A standalone job at local cron times."""
    return Entry(
        name=name,
        task=task,
        kwargs=kwargs,
        queue=queue,
        cron=cron,
        catch_up=catch_up,
        disruptive=task in DISRUPTIVE,
        note=note,
    )


def step(name: str, task: str, cron: str, window: str, slot: str, **kwargs: Any) -> Entry:
    """A step of a window: ``window.run`` runs it in slot order; ``cron`` is its planned
    local time in the slot (``maint schedule`` shows it, ``--check`` checks it fits)."""
    return Entry(
        name=name,
        task=task,
        kwargs=kwargs,
        cron=cron,
        catch_up=CatchUp.IN_WINDOW,
        window=window,
        disruptive=task in DISRUPTIVE,
        slot=slot,
    )


WINDOW_TASK = "window.run"


def window_run(kind: str, cron: str, *, note: str = "") -> Entry:
    """The window of ``kind``, sent to ``window.run`` at its start (``cron``) on the
    nights whose window is ``kind`` (one night, one window). A window sent late is still
    sent while its window lasts (``in_window``); ``window.run`` decides each step."""
    return Entry(
        name=f"{kind}-window",
        task=WINDOW_TASK,
        kwargs={"kind": kind},
        cron=cron,
        catch_up=CatchUp.IN_WINDOW,
        window=kind,
        note=note,
    )


def is_step(entry: Entry) -> bool:
    """A window's step (run by ``window.run``), not something beat sends."""
    return entry.window is not None and entry.task != WINDOW_TASK


def interval(name: str, task: str, every_s: float, *, expires_s: float | None = None) -> Entry:
    """A job every ``every_s`` seconds of elapsed time."""
    return Entry(
        name=name,
        task=task,
        kwargs={},
        every_s=every_s,
        catch_up=CatchUp.NEVER,
        disruptive=task in DISRUPTIVE,
        expires_s=expires_s,
    )


def notice(name: str, task: str, cron: str, announces: str, lead_days: int) -> Entry:
    """An advance notice of the window of kind ``announces``, ``lead_days`` ahead. Never
    sent late: the task announces the next window of its kind, and a late send could
    announce the wrong one (a missed notice is recorded missed for on-call)."""
    return Entry(
        name=name,
        task=task,
        kwargs={},
        cron=cron,
        catch_up=CatchUp.NEVER,
        announces=announces,
        lead_days=lead_days,
    )
