"""``maint capacity`` (capacity.forecast: docs/capacity.md) and ``maint smoke``
(test.smoke, test.baseline: docs/smoke.md): run here, recorded like ``maint run``."""

from __future__ import annotations

from typing import Any

import typer

from maintenance.capacity.fit import amount
from maintenance.cli.fit import Column, Grid, Note
from maintenance.cli.verb import run_task
from maintenance.errors import BadInput


def capacity(as_json: bool = typer.Option(False, "--json", help="Print the run as JSON.")) -> None:
    """Capacity forecast (capacity.forecast): database size, backup storage per tier, log
    volume, free disk and Redis memory over time, their growth and the date each crosses
    its limit. Exit 1 when a series is already over its limit."""
    run_task("capacity.forecast", {}, as_json, capacity_tables)


def capacity_tables(f: dict[str, Any]) -> list[Any]:
    """The forecast as one table, a series a row, its note under it."""
    series = f.get("series") or []
    if not series:
        return []
    rows: list[Any] = []
    for s in series:
        unit = s.get("unit") or "bytes"
        now = "-" if s.get("current") is None else amount(s["current"], unit)
        limit = "-" if s.get("limit") is None else amount(s["limit"], unit)
        slope = s.get("slope_per_day")
        week = "-" if slope is None else ("+" if slope >= 0 else "-") + amount(abs(slope) * 7, unit)
        when = (s.get("crossing_at") or "-")[:10]
        rows.append([s["key"], now, limit, week, when, s["status"]])
        rows.append(Note(s.get("note") or "", 2))
    cols = [
        Column("series"),
        Column("now", right=True),
        Column("limit", right=True),
        Column("per week", right=True),
        Column("crosses"),
        Column("status"),
    ]
    return [Grid(cols, rows, title=f"forecast ({f.get('warn_days')} days warn)")]


def smoke(
    baseline: bool = typer.Option(
        False,
        "--baseline",
        help="Record the response times as the performance baseline "
        "(test.baseline) and compare them with the trailing weeks'.",
    ),
    repeat: int | None = typer.Option(
        None, "--repeat", help="With --baseline: times each request is sent (default 3)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """The application's smoke checks against MAINT_API_URL (test.smoke), each timed; with
    --baseline, the performance baseline (test.baseline)."""
    if baseline:
        run_task(
            "test.baseline", {} if repeat is None else {"repeat": repeat}, as_json, smoke_tables
        )
    elif repeat is not None:
        raise BadInput("--repeat goes with --baseline (test.smoke sends each request once)")
    else:
        run_task("test.smoke", {}, as_json, smoke_tables)


def smoke_tables(f: dict[str, Any]) -> list[Any]:
    reqs = f.get("requests") or []
    if not reqs:
        return []
    compared = {c["name"]: c for c in (f.get("baseline") or {}).get("comparisons", [])}
    rows: list[Any] = []
    for r in reqs:
        c = compared.get(r["name"])
        base = "-" if not c or c.get("median_ms") is None else f"{c['median_ms']:g} ms"
        rows.append(
            [
                r["name"],
                f"{r['method']} {r['path']}",
                str(r.get("status_code") or "-"),
                f"{r['median_ms']:g} ms",
                base,
                "ok" if r["ok"] else "; ".join(r.get("problems") or []),
            ]
        )
    cols = [
        Column("request"),
        Column("call"),
        Column("HTTP", right=True),
        Column("time", right=True),
        Column("baseline", right=True),
        Column("result", flex=True),
    ]
    return [Grid(cols, rows, title=f"smoke requests against {f.get('api_url')}")]


def register(app: typer.Typer) -> None:
    app.command("capacity")(capacity)
    app.command("smoke")(smoke)
