"""``maint schedule``: the planned runs and windows (docs/calendar.md), computed by the
plan beat uses (:mod:`maintenance.calendar.plan`), with local and UTC times and what a
blackout would skip and why. ``--check`` validates the calendar instead.

Read-only: the one thing it reads besides the settings is the last schedule publication
(``MAINT_CALENDAR_PUBLICATION_QUERY``), and a failure there is shown as "publication
unknown".
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.text import Text

from maintenance import catalog
from maintenance.calendar import blackout, check, plan, publication
from maintenance.calendar.model import Entry
from maintenance.cli.fit import Column, Grid, Note
from maintenance.cli.render import err, out, print_json
from maintenance.config import Settings, get_settings
from maintenance.errors import BadInput
from maintenance.window import plan as window_plan
from maintenance.windows import resolve_local

CALENDAR = "beat_schedule"


def load_calendar(module: str, settings: Settings) -> tuple[list[Entry], list[Entry]]:
    """``module``'s ``entries(settings)`` (what beat sends) and ``steps(settings)`` (what
    its windows run); default: beat_schedule, the one beat runs."""
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise BadInput(f"cannot import calendar module {module!r}: {exc}") from None
    entries = getattr(found, "entries", None)
    if not callable(entries):
        raise BadInput(f"calendar module {module!r} has no entries(settings)")
    steps = getattr(found, "steps", None)
    return list(entries(settings)), list(steps(settings)) if callable(steps) else []


def _zone(name: str | None, settings: Settings) -> ZoneInfo:
    if name is None:
        return settings.zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"--zone: {name!r} is not a known IANA time zone") from None


def schedule(
    start: str | None = typer.Option(
        None, "--from", metavar="DATE", help="First local day (YYYY-MM-DD); default today."
    ),
    days: int = typer.Option(7, "--days", min=1, max=3660, help="How many local days."),
    zone_name: str | None = typer.Option(
        None, "--zone", metavar="ZONE", help="IANA zone; default MAINT_TIMEZONE."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    validate: bool = typer.Option(
        False, "--check", help="Validate the calendar; exit 1 with the problems listed."
    ),
    module: str = typer.Option(
        CALENDAR, "--calendar", metavar="MODULE", help="Module whose entries(settings) to read."
    ),
) -> None:
    """The planned runs and windows, local and UTC, and what a blackout would skip and
    why; --check validates the calendar (exit 1 with the problems)."""
    settings = get_settings()
    calendar, steps = load_calendar(module, settings)
    if validate:
        found = check.problems(calendar, {s.name for s in catalog.SPECS}, steps)
        if as_json:
            print_json({"problems": found, "entries": len(calendar), "steps": len(steps)})
        elif found:
            for p in found:
                err.print(Text(f"problem: {p}"))
        else:
            out.print(f"calendar ok: {len(calendar)} entries, {len(steps)} window steps")
        raise typer.Exit(1 if found else 0)
    zone = _zone(zone_name, settings)
    try:
        first = date.fromisoformat(start) if start else datetime.now(UTC).astimezone(zone).date()
    except ValueError:
        raise BadInput(f"--from: {start!r} is not a date (YYYY-MM-DD)") from None
    begin = resolve_local(first, time(0, 0), zone) - timedelta(microseconds=1)
    end = resolve_local(first + timedelta(days=days), time(0, 0), zone) - timedelta(microseconds=1)
    facts = blackout.Blackouts(
        survey_dates=settings.calendar_survey_dates,
        extra_dates=settings.calendar_blackout_dates,
        publication=publication.read(settings),
    )
    doc = plan_document(calendar, begin, end, zone, facts, steps)
    doc["from"], doc["days"] = first.isoformat(), days
    if as_json:
        print_json(doc)
    else:
        show(doc, zone)


def plan_document(
    calendar: Sequence[Entry],
    begin: datetime,
    end: datetime,
    zone: ZoneInfo,
    facts: blackout.Blackouts,
    steps: Sequence[Entry] = (),
) -> dict[str, Any]:
    """The plan of ``(begin, end]`` as plain data (pure). Each window lists its steps
    as ``window.run`` would decide them at its start (window.plan), each at its planned
    time in its slot."""

    def times(moment: datetime) -> dict[str, str]:
        return {
            "local": moment.astimezone(zone).isoformat(),
            "utc": moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }

    pub = facts.publication
    nights: list[dict[str, Any]] = [
        {
            "kind": str(w.kind),
            "date": w.day.isoformat(),
            "start": times(w.start),
            "end": times(w.end),
            "blackouts": list(w.blackouts),
            "steps": _steps(w, steps, zone, times),
        }
        for w in plan.windows(begin, end, zone, facts)
    ]
    sent = [
        {
            "name": p.entry.name,
            "task": p.entry.task,
            "kwargs": dict(p.entry.kwargs),
            "queue": p.entry.queue,
            "window": p.entry.window,
            "slot": p.entry.slot,
            "announces": p.entry.announces,
            "cron": p.entry.cron,
            "disruptive": p.entry.disruptive,
            **times(p.at),
            "skipped": p.skip is not None,
            "skip_reason": p.skip,
            "by": "beat",
        }
        for p in plan.occurrences(calendar, begin, end, zone, facts)
    ]
    # the windows' steps at their planned times, as their runs will decide them
    planned = [
        {
            "name": st["name"],
            "task": st["task"],
            "kwargs": st["kwargs"],
            "queue": None,
            "window": w["kind"],
            "slot": st["slot"],
            "announces": None,
            "cron": st["cron"],
            "disruptive": st["disruptive"],
            "local": st["local"],
            "utc": st["utc"],
            "skipped": st["skipped"],
            "skip_reason": st["skip_reason"],
            "by": "window.run",
        }
        for w in nights
        for st in w["steps"]
        if st["utc"] is not None
    ]
    runs = sorted([*sent, *planned], key=lambda r: r["utc"])  # stable: beat's first
    return {
        "zone": zone.key,
        "blackouts": {
            "survey_dates": [d.isoformat() for d in facts.survey_dates],
            "extra_dates": [d.isoformat() for d in facts.extra_dates],
            "publication": {
                "at": pub.at.isoformat() if pub.at else None,
                "unknown": pub.unknown,
            },
        },
        "windows": nights,
        "runs": runs,
        "intervals": [
            {"name": e.name, "task": e.task, "every_s": e.every_s, "expires_s": e.expires_s}
            for e in calendar
            if e.every_s is not None
        ],
    }


def _steps(
    w: plan.PlannedWindow, steps: Sequence[Entry], zone: ZoneInfo, times: Any
) -> list[dict[str, Any]]:
    """The steps of the window ``w`` as its run decides them at its start (pure)."""
    sp = window_plan.window_span(w.kind, w.day, zone, w.start, scheduled=True)
    out = []
    for d in window_plan.plan(
        steps,
        w.kind,
        outcomes={},
        blackouts=list(w.blackouts),
        force_reason=None,
        now=w.start,
        buffer_start=sp.buffer_start,
    ):
        at = plan.next_fire(d.entry, w.start - timedelta(microseconds=1), zone)
        planned = times(at) if at is not None and at < w.end else {"local": None, "utc": None}
        out.append(
            {
                "name": d.entry.name,
                "task": d.entry.task,
                "kwargs": dict(d.entry.kwargs),
                "slot": d.slot,
                "cron": d.entry.cron,
                "disruptive": d.entry.disruptive,
                **planned,
                "after": list(d.waits_for),
                "skipped": d.skip is not None,
                "skip_reason": d.skip,
            }
        )
    return out


def _short(moment: str) -> str:
    return moment[:16].replace("T", " ")


def show(doc: dict[str, Any], zone: ZoneInfo) -> None:
    pub = doc["blackouts"]["publication"]
    if pub["unknown"]:
        out.print(Text(f"publication unknown: {pub['unknown']}", style="yellow"))
    elif pub["at"]:
        out.print(f"last schedule publication: {_short(pub['at'])}")
    nights: list[Any] = []
    for w in doc["windows"]:
        nights.append(
            [
                w["date"],
                w["kind"],
                f"{_short(w['start']['local'])[11:]}-{_short(w['end']['local'])[11:]}",
                f"{_short(w['start']['utc'])}-{_short(w['end']['utc'])[11:]}",
                Text("blackout", style="yellow") if w["blackouts"] else "-",
            ]
        )
        if w["blackouts"]:  # the whole reason, wrapped under the row
            nights.append(Note("; ".join(w["blackouts"]), under=1))
    out.print(
        Grid(
            [Column("night"), Column("window"), Column("local"), Column("utc"), Column("plan")],
            nights,
            title=f"windows (one a night; local times in {zone.key})",
        )
    )
    rows: list[Any] = []
    by_start = {(w["kind"], w["start"]["utc"]): w for w in doc["windows"]}
    for r in doc["runs"]:
        if _hourly(r) or r["by"] != "beat":  # steps: under their window's row
            continue
        rows.append(
            [
                _short(r["local"]),
                _short(r["utc"])[11:],
                r["name"],
                r["task"],
                Text("skip", style="yellow") if r["skipped"] else "send",
            ]
        )
        if r["skipped"]:  # the whole reason, wrapped under the row
            rows.append(Note(r["skip_reason"], under=2))
        window = by_start.get((r["window"], r["utc"])) if r["task"] == "window.run" else None
        for st in window["steps"] if window else ():
            rows.append(
                [
                    _short(st["local"]) if st["local"] else "",
                    _short(st["utc"])[11:] if st["utc"] else "",
                    f"  {st['name']}",
                    st["task"],
                    Text("skip", style="yellow") if st["skipped"] else "step",
                ]
            )
            if st["skipped"]:
                rows.append(Note(st["skip_reason"], under=2))
    out.print(
        Grid(
            [
                Column("local"),
                Column("utc"),
                Column("entry", flex=True),
                Column("task"),
                Column("plan"),
            ],
            rows,
            title="planned runs",
        )
    )
    hourly = {r["name"]: r for r in doc["runs"] if _hourly(r)}
    for name, r in hourly.items():
        out.print(f"and {name} ({r['task']}) (cron {r['cron']}; --json lists each)")
    for i in doc["intervals"]:
        out.print(f"and {i['name']} ({i['task']}) every {i['every_s']:g} s of elapsed time")


def _hourly(run: dict[str, Any]) -> bool:
    """An entry due every hour (its cron's hour field is ``*``): one line, not 24 a day."""
    return bool(run["cron"]) and run["cron"].split()[1] == "*"


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule)
