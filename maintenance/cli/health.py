"""``maint health``: probe everything now and show the SYSTEM HEALTH DASHBOARD
(docs/health.md), or the health document as JSON.

Read-only: it reads the previous stored sample (for the cache's hit ratio since then) and
stores nothing, alerts nobody, pings no dead man's switch. Bounded like ``health.check``
(``MAINT_HEALTH_TIMEOUT_S``) whatever hangs. Exit codes: 0 healthy, 1 degraded,
2 critical. ``--watch`` probes again every ``--every`` seconds and redraws in place
(``--json --watch``: one document per line); Ctrl-C stops it with the last status's code.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.text import Text

from maintenance.cli.fit import Column, Grid, Note, wrap
from maintenance.cli.render import local, out, print_json
from maintenance.config import get_settings
from maintenance.health.check import Taken, take
from maintenance.health.document import Status, entries_of, worst
from maintenance.units import human_bytes

STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
DISK_WORD = {Status.PASS: "OK", Status.WARN: "WARNING", Status.FAIL: "CRITICAL"}


def health(
    as_json: bool = typer.Option(False, "--json", help="Print the health document (JSON)."),
    watch: bool = typer.Option(False, "--watch", help="Probe again and redraw until Ctrl-C."),
    every: float = typer.Option(
        5.0, "--every", min=1.0, metavar="SECONDS", help="Seconds between two checks with --watch."
    ),
) -> None:
    """The SYSTEM HEALTH DASHBOARD: API, database, cache, Celery and host probed now, at
    once, within MAINT_HEALTH_TIMEOUT_S. Exit 0 healthy, 1 degraded, 2 critical."""
    settings = get_settings()
    zone = settings.zone
    if not watch:
        taken = take(settings)
        if as_json:
            print_json(taken.document)
        else:
            out.print(dashboard(taken, zone))
        raise typer.Exit(taken.status.exit_code)
    code = 0
    try:
        if as_json:
            while True:
                taken = take(settings)
                code = taken.status.exit_code
                sys.stdout.write(json.dumps(taken.document, default=str) + "\n")
                sys.stdout.flush()
                time.sleep(every)
        taken = take(settings)
        code = taken.status.exit_code
        with Live(dashboard(taken, zone), console=out, auto_refresh=False) as live:
            while True:
                time.sleep(every)
                taken = take(settings)
                code = taken.status.exit_code
                live.update(dashboard(taken, zone), refresh=True)
    except KeyboardInterrupt:
        pass
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("health")(health)


# --- the dashboard (a pure function of the document) --------------------------------------


Items = list[tuple[str, dict[str, Any]]]


def _find(items: Items, key: str) -> list[dict[str, Any]]:
    return [i for k, i in items if k == key]


def _value(items: Items, key: str) -> Any:
    found = _find(items, key)
    return found[0].get("observedValue") if found else None


def _num(value: Any, unit: str = "", digits: int = 1) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.{digits}f}{unit}"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"


def _status(items: Iterable[dict[str, Any]]) -> Status | None:
    statuses = [i.get("status", "fail") for i in items]
    if not statuses:
        return None
    try:
        return worst(statuses)
    except ValueError:
        return Status.FAIL


def _row(items: Items, prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    return [i for k, i in items if k.startswith(prefixes)]


def _api(items: Items) -> str:
    return (
        f"response time {_num(_value(items, 'api:responseTime'), ' ms')}, "
        f"error rate {_num(_value(items, 'api:errorRate'), '%', 3)}"
    )


def _database(items: Items) -> str:
    return (
        f"connections {_count(_value(items, 'database:connections'))}, "
        f"query time {_num(_value(items, 'database:queryTime'), ' ms', 2)}, "
        f"cache hit rate {_num(_value(items, 'database:cacheHitRate'), '%')}"
    )


def _cache(items: Items) -> str:
    used = _value(items, "cache:usedMemory")
    ratio = _value(items, "cache:memoryUtilization")
    memory = "-"
    if isinstance(used, int):
        memory = human_bytes(used)
        if isinstance(ratio, int | float) and ratio > 0:
            memory += f" of {human_bytes(used * 100 / ratio)} ({ratio:.1f}%)"
    return (
        f"memory {memory}, keys {_count(_value(items, 'cache:keys'))}, "
        f"hit rate {_num(_value(items, 'cache:hitRate'), '%')}"
    )


def _celery(items: Items) -> str:
    queued = [i.get("observedValue") for i in _find(items, "celery:queueLength")]
    total = sum(q for q in queued if isinstance(q, int)) if queued else None
    age = _value(items, "celery:lastVerifiedBackup")
    return (
        f"workers online {_count(_value(items, 'celery:workers'))}, queued {_count(total)}, "
        f"failed (24 h) {_count(_value(items, 'celery:failedRuns'))}, "
        f"newest verified backup {_num(age, ' h old')}"
    )


def _disk(items: Items) -> str:
    parts = []
    for util in _find(items, "host:diskUtilization"):
        cid = util.get("componentId", "")
        label = cid.split(" ", 1)[0] or "disk"
        free = [i for i in _find(items, "host:diskFree") if i.get("componentId") == cid]
        size = [i for i in _find(items, "host:folderSize") if i.get("componentId") == cid]
        text = f"{label} {_num(util.get('observedValue'), '% used')}"
        if free and isinstance(free[0].get("observedValue"), int):
            text += f", {human_bytes(free[0]['observedValue'])} free"
        if size and isinstance(size[0].get("observedValue"), int):
            text += f", {human_bytes(size[0]['observedValue'])} in it"
        parts.append(text)
    return "; ".join(parts) or "-"


def _host(items: Items) -> str:
    return (
        f"memory {_num(_value(items, 'host:memoryUtilization'), '% used')}, "
        f"load {_num(_value(items, 'host:loadAverage'), '', 2)}"
    )


#: (row, the check keys it shows, its figures, words for pass/warn/fail)
ROWS: list[tuple[str, tuple[str, ...], Callable[[Items], str], dict[Status, str] | None]] = [
    ("API", ("api:",), _api, None),
    ("Database", ("database:",), _database, None),
    ("Cache (Redis)", ("cache:",), _cache, None),
    ("Background jobs (Celery)", ("celery:",), _celery, None),
    ("Disk space", ("host:disk", "host:folder"), _disk, DISK_WORD),
    ("Host", ("host:memory", "host:load"), _host, None),
]


def dashboard(taken: Taken, zone: ZoneInfo) -> RenderableType:
    """The playbook's SYSTEM HEALTH DASHBOARD of one check."""
    doc = taken.document
    items = entries_of(doc)
    rows: list[list[str | Text] | Note] = []
    for label, prefixes, figures, words in ROWS:
        status = _status(_row(items, prefixes))
        if status is None:
            word = Text("-")
        else:
            word = Text((words or {}).get(status, status.component_word), style=STYLE[status])
        rows.append([label, word, figures(items)])
    grid = Grid(
        [Column("component"), Column("status"), Column("figures", flex=True)],
        rows,
    )
    overall = Status(doc["status"])
    head = Text("SYSTEM HEALTH DASHBOARD", style="bold")
    head.append(
        f"   last updated {local(taken.taken_at, zone)} {zone.key}, "
        f"took {taken.duration_ms / 1000:.2f} s",
        style="dim",
    )
    verdict = Text("OVERALL STATUS: ", style="bold")
    verdict.append(overall.overall_word.upper(), style=STYLE[overall])
    parts: list[RenderableType] = [head, grid, verdict]
    issues = [(k, i) for k, i in items if i.get("status") != Status.PASS.value and i.get("output")]
    if issues:
        width = max((out.width or 80) - 4, 20)
        lines = Text()
        for key, item in issues:
            text = f"{key} {item['status']}: {item['output']}"
            pieces = list(wrap(text, width))
            style = (
                STYLE.get(Status(item["status"]), "") if item["status"] in {"warn", "fail"} else ""
            )
            lines.append(
                "  - " + pieces[0] + "".join("\n    " + p for p in pieces[1:]) + "\n", style=style
            )
        parts += [Text("Issues:", style="bold"), lines]
    for note in doc.get("notes") or []:
        parts.append(Text(f"note: {note}", style="dim"))
    return Group(*parts)
