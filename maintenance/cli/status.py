"""``maint status``: the on-call screen (docs/status.md).

The first line says whether anything needs attention and, if so, the most severe reason;
the exit code says the same (1: something needs attention, 0: nothing). Then, per area,
the last run of each task; what failed, was lost or missed in the last 24 hours and why;
the newest verified backup of each tier; the last drill against its objectives; open
alerts; health and disk headroom; the next window and what it will do. The facts are
:mod:`maintenance.oncall.facts`, the judgement :mod:`maintenance.oncall.judge` (pure);
this module only draws them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

from maintenance.calendar import blackout, publication
from maintenance.cli import schedule
from maintenance.cli.fit import Column, Grid, Note, wrap
from maintenance.cli.render import compact, local, out, print_json, run_dict, runs_table
from maintenance.config import Settings, get_settings
from maintenance.errors import MaintenanceError
from maintenance.oncall import facts, judge, model
from maintenance.units import human_age, human_bytes, human_duration

EXIT_CLEAN, EXIT_ATTENTION = 0, 1


def status(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """One on-call screen: what needs attention first (exit 1), then per area the last
    run of each task, the last 24 hours' failures, backups, drill, alerts, disks and the
    next window.

    A task is judged by its last real run: input a person gave that was refused (an
    unknown parameter, a bad value) is listed apart and does not hide it. Exit 0 when
    nothing needs attention.
    """
    settings = get_settings()
    snap = facts.read(settings)
    try:
        snap.next_window = next_window(settings, snap.now)
    except MaintenanceError as exc:  # a calendar module that cannot be read: said, not fatal
        snap.calendar_problem = str(exc)
    reasons = judge.judge(snap, judge.Policy.from_settings(settings), snap.now)
    if as_json:
        print_json(document(snap, reasons))
    else:
        show(snap, reasons, settings.zone)
    raise typer.Exit(EXIT_ATTENTION if reasons else EXIT_CLEAN)


#: How far ahead the next window is looked for (one opens every night).
WINDOW_SEARCH = timedelta(days=8)


def next_window(settings: Settings, now: datetime) -> model.NextWindow | None:
    """The next maintenance window and what it will do, as ``maint schedule`` plans it:
    its own :func:`~maintenance.cli.schedule.load_calendar` (``MAINT_CALENDAR_MODULE``,
    the module window.run reads; beat_schedule by default) and
    :func:`~maintenance.cli.schedule.plan_document`, with the blackout facts and the
    last publication. What it will do: the window's steps as its run will decide them,
    at their planned times (a calendar without ``steps``: what beat sends inside it)."""
    calendar, steps = schedule.load_calendar(settings.calendar_module, settings)
    facts_ = blackout.Blackouts(
        survey_dates=settings.calendar_survey_dates,
        extra_dates=settings.calendar_blackout_dates,
        publication=publication.read(settings),
    )
    doc = schedule.plan_document(calendar, now, now + WINDOW_SEARCH, settings.zone, facts_, steps)
    if not doc["windows"]:
        return None
    w = doc["windows"][0]
    start, end = _utc(w["start"]["utc"]), _utc(w["end"]["utc"])
    planned = [
        model.PlannedRun(_utc(st["utc"]), st["name"], st["task"], st["skip_reason"])
        for st in w.get("steps", [])
        if st.get("utc")
    ] or [
        model.PlannedRun(_utc(r["utc"]), r["name"], r["task"], r["skip_reason"])
        for r in doc["runs"]
        if start <= _utc(r["utc"]) < end and not (r["cron"] and r["cron"].split()[1] == "*")
    ]
    return model.NextWindow(
        kind=w["kind"],
        start=start,
        end=end,
        blackouts=tuple(w["blackouts"]),
        runs=sorted(planned, key=lambda p: p.at),
        publication_unknown=doc["blackouts"]["publication"]["unknown"],
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- JSON -------------------------------------------------------------------------------


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def document(snap: model.Snapshot, reasons: list[judge.Reason]) -> dict[str, Any]:
    """The screen as data; ``attention`` (the first line's reason, or null) first."""
    areas: dict[str, list[str]] = {}
    for run in snap.latest:
        areas.setdefault(judge.area_of(run.task), []).append(run.task)
    h = snap.health
    w = snap.next_window
    d = snap.drill
    return {
        "attention": judge.headline(reasons) if reasons else None,
        "reasons": [r.to_dict() for r in reasons],
        "now": _iso(snap.now),
        "areas": areas,
        "latest": [run_dict(r) | {"area": judge.area_of(r.task)} for r in snap.latest],
        "rejected": [run_dict(r) for r in snap.rejected],
        "running": [run_dict(r) for r in snap.running],
        "recent_problems": [run_dict(r) for r in snap.recent_problems],
        "backups": {
            tier: {
                "id": b.id,
                "created_at": _iso(b.created_at),
                "age_s": round((snap.now - b.created_at).total_seconds(), 1),
                "size_bytes": b.size_bytes,
                "level": b.level,
                "verified_at": _iso(b.verified_at),
                "run_id": b.run_id,
            }
            for tier, b in sorted(snap.backups.items())
        },
        "drill": None
        if d is None
        else {
            "run_id": d.run_id,
            "status": d.status,
            "at": _iso(d.at),
            "backup": d.backup,
            "rto_s": d.rto_s,
            "rpo_s": d.rpo_s,
            "rto_objective_s": d.rto_objective_s,
            "rpo_objective_s": d.rpo_objective_s,
            "summary": d.summary,
            "error": d.error,
        },
        "alerts": [
            {
                "key": a.key,
                "status": a.status,
                "opened_at": _iso(a.opened_at),
                "notified_at": _iso(a.notified_at),
                "held_since": _iso(a.held_since),
                "output": a.output,
            }
            for a in snap.alerts
        ],
        "health": None
        if h is None
        else {
            "sample_id": h.sample_id,
            "taken_at": _iso(h.taken_at),
            "status": h.status,
            "components": h.components,
            "cache_hit_ratio": h.cache_hit_ratio,
            "disks": [
                {
                    "label": k.label,
                    "root": k.root,
                    "free_bytes": k.free_bytes,
                    "used_ratio": k.used_ratio,
                    "status": k.status,
                }
                for k in h.disks
            ],
        },
        "next_window": None
        if w is None
        else {
            "kind": w.kind,
            "start": _iso(w.start),
            "end": _iso(w.end),
            "blackouts": list(w.blackouts),
            "publication_unknown": w.publication_unknown,
            "runs": [
                {"at": _iso(p.at), "entry": p.name, "task": p.task, "skip_reason": p.skip}
                for p in w.runs
            ],
        },
        "windows_running": [
            {
                "id": r.id,
                "kind": r.kind,
                "started_at": _iso(r.started_at),
                "ends_at": _iso(r.ends_at),
                "trigger": r.trigger,
            }
            for r in snap.windows_running
        ],
        "calendar_problem": snap.calendar_problem,
    }


# --- the screen ----------------------------------------------------------------------------


def show(snap: model.Snapshot, reasons: list[judge.Reason], zone: ZoneInfo) -> None:
    now = snap.now
    style = "bold red" if reasons else "bold green"
    out.print(Text(judge.headline(reasons, out.width), style=style))
    for r in reasons:  # each whole, wrapped under itself
        lines = wrap(f"{r.severity.word}: {r.text}", max(out.width - 4, 20))
        for n, piece in enumerate(lines):
            out.print(Text(("  " if n == 0 else "    ") + piece, no_wrap=True))
    by_area: dict[str, list[Any]] = {}
    for run in snap.latest:
        by_area.setdefault(judge.area_of(run.task), []).append(run)
    if not snap.latest and not snap.rejected:
        out.print("no runs recorded yet")
    for area in judge.area_names():
        if by_area.get(area):
            out.print(
                runs_table(by_area[area], zone, title=f"{area}: last run of each task", now=now)
            )
    if snap.rejected:
        title = "input refused since the last real run (not counted)"
        out.print(runs_table(snap.rejected, zone, title=title, now=now))
    if snap.running:
        out.print(runs_table(snap.running, zone, title="running now", now=now))
    if snap.recent_problems:
        out.print(_problems(snap, zone))
    out.print(_backups(snap, zone))
    _drill(snap, zone)
    if snap.alerts:
        out.print(_alerts(snap, zone))
    _health(snap, zone)
    _window(snap, zone)


def _problems(snap: model.Snapshot, zone: ZoneInfo) -> Grid:
    rows: list[Any] = []
    for r in snap.recent_problems:
        rows.append([str(r.id), r.task, r.status, compact(r.started_at, zone)])
        rows.append(Note(judge.why(r), under=1))
    columns = [Column("id", right=True), Column("task"), Column("status"), Column("started")]
    title = f"failed, lost or missed in the last 24 h, and why (times in {zone.key})"
    return Grid(columns, rows, title=title)


def _backups(snap: model.Snapshot, zone: ZoneInfo) -> Grid | Text:
    if not snap.backups:
        return Text("backups: no verified backup in the history", style="yellow")
    rows: list[Any] = []
    for tier in ("daily", "weekly", "monthly"):
        b = snap.backups.get(tier)
        if b is None:
            rows.append([tier, "-", "-", "-", "-"])
            continue
        rows.append(
            [
                tier,
                b.id,
                human_age((snap.now - b.created_at).total_seconds()),
                human_bytes(b.size_bytes) if b.size_bytes is not None else "-",
                f"{b.level} {compact(b.verified_at, zone)}",
            ]
        )
    columns = [Column("tier"), Column("newest verified"), Column("age", right=True)]
    columns += [Column("size", right=True), Column("verified")]
    return Grid(columns, rows, title=f"backups (times in {zone.key})")


def _drill(snap: model.Snapshot, zone: ZoneInfo) -> None:
    d = snap.drill
    if d is None:
        out.print("last drill: none recorded")
        return

    def vs(value: float | None, objective: float | None) -> str:
        if value is None:
            return "not measured"
        shown = human_duration(value)
        if objective is None:
            return shown
        verdict = "within" if value <= objective else "MISSED"
        return f"{shown} ({verdict} objective {human_duration(objective)})"

    line = Text(f"last drill: run {d.run_id} ")
    line.append(d.status, style="green" if d.status == "succeeded" else "bold red")
    line.append(f" {local(d.at, zone)}")
    if d.backup:
        line.append(f" of {d.backup}")
    line.append(f"; RTO {vs(d.rto_s, d.rto_objective_s)}, RPO {vs(d.rpo_s, d.rpo_objective_s)}")
    out.print(line)


def _alerts(snap: model.Snapshot, zone: ZoneInfo) -> Grid:
    rows: list[Any] = []
    for a in snap.alerts:
        held = " (held by a window)" if a.held_since else ""
        rows.append([a.key, a.status + held, compact(a.opened_at or a.notified_at, zone)])
        if a.output:
            rows.append(Note(a.output, under=1))
    columns = [Column("alert"), Column("status"), Column("since")]
    return Grid(columns, rows, title=f"open alerts (times in {zone.key})")


def _health(snap: model.Snapshot, zone: ZoneInfo) -> None:
    h = snap.health
    if h is None:
        out.print("health: no sample stored yet (health.check stores one every 5 minutes)")
        return
    parts = ", ".join(f"{c} {s}" for c, s in h.components.items())
    ratio = f"; cache hit ratio {h.cache_hit_ratio:.0%}" if h.cache_hit_ratio is not None else ""
    out.print(
        Text(
            f"health {h.status} {human_age((snap.now - h.taken_at).total_seconds())} ago: "
            f"{parts}{ratio}"
        )
    )
    if h.disks:
        rows = [
            [
                k.label,
                human_bytes(k.free_bytes) if k.free_bytes is not None else "-",
                f"{k.used_ratio:.0%}" if k.used_ratio is not None else "-",
                k.status,
                k.root,
            ]
            for k in h.disks
        ]
        columns = [Column("disk"), Column("free", right=True), Column("used", right=True)]
        columns += [Column("status"), Column("root", flex=True)]
        out.print(Grid(columns, rows, title="disk headroom (from the newest health sample)"))


def _window(snap: model.Snapshot, zone: ZoneInfo) -> None:
    for r in snap.windows_running:
        until = f" until {compact(r.ends_at, zone)}" if r.ends_at else ""
        out.print(
            Text(
                f"window running now: {r.kind} (window run {r.id}) since "
                f"{compact(r.started_at, zone)}{until}",
                style="bold cyan",
            )
        )
    w = snap.next_window
    if w is None:
        reason = snap.calendar_problem or "none in the next 8 days"
        out.print(Text(f"next window: unknown ({reason})"))
        return
    start = w.start.astimezone(zone)
    line = (
        f"next window: {w.kind} {start:%a %Y-%m-%d %H:%M}-{w.end.astimezone(zone):%H:%M} "
        f"{zone.key} (in {human_age((w.start - snap.now).total_seconds())})"
    )
    out.print(Text(line, style="bold"))
    for b in w.blackouts:
        out.print(Text(f"  blackout: {b}", style="yellow"))
    if w.publication_unknown:
        out.print(Text(f"  publication unknown: {w.publication_unknown}", style="yellow"))
    rows: list[Any] = []
    for p in w.runs:
        rows.append(
            [
                p.at.astimezone(zone).strftime("%H:%M"),
                p.name,
                p.task,
                Text("skip", style="yellow") if p.skip else "send",
            ]
        )
        if p.skip:
            rows.append(Note(p.skip, under=1))
    if rows:
        columns = [Column("local"), Column("entry"), Column("task"), Column("plan")]
        out.print(Grid(columns, rows, title="what it will do"))


def register(app: typer.Typer) -> None:
    app.command("status")(status)
