"""``maint cache``: the application's Redis cache (docs/cache.md).

Every verb runs its task in this process through the runner (trigger ``cli``, recorded
like ``maint run``) and prints the run's checklist and a table of what it found or did;
``--json`` prints the run's history row as ``maint run --json`` does. Exit codes are
``maint run``'s: 0 succeeded, 1 failed, 2 bad input (a refused pattern, a flush without
``--confirm``), 3 skipped (another cache clear holds the lock).
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text

from maintenance import catalog, runner
from maintenance.cli.fit import Column, Grid, KeyValues, Note, one_line, wrap
from maintenance.cli.render import Checklist, duration, err, out, print_json, print_run, status_text
from maintenance.config import get_settings
from maintenance.errors import MaintenanceError
from maintenance.history import store
from maintenance.results import Trigger
from maintenance.units import human_bytes

app = typer.Typer(
    help="The application's Redis cache: stats, clear, analyze, flush.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print the run as JSON.")
_DRY = typer.Option(False, "--dry-run", help="Count what would be deleted; delete nothing.")


def _run(task: str, params: dict[str, Any], as_json: bool) -> None:
    settings = get_settings()
    outcome = runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)
    row = None
    if outcome.run_id is not None and not outcome.history_error:
        try:
            row = store.get_run(settings.history_dsn.get_secret_value(), outcome.run_id)
        except MaintenanceError:
            row = None
    if as_json:
        if row is not None:
            print_run(row, settings.zone, as_json=True, exit_code=outcome.exit_code)
        else:
            print_json(
                outcome.to_dict()
                | {"exit_code": outcome.exit_code, "history_error": outcome.history_error}
            )
    else:
        out.print(Group(*parts(outcome)))
    if outcome.history_error:
        err.print(
            "[yellow]warning[/]: the run was not fully recorded: " + escape(outcome.history_error)
        )
    if outcome.bad_input:
        err.print("[red]bad input[/]: " + escape(outcome.error_message or ""))
    raise typer.Exit(outcome.exit_code)


def parts(outcome: runner.Outcome) -> list[RenderableType]:
    """The run in a few lines: head, summary or error, checklist, then the task's table."""
    head = Text(
        f"run {outcome.run_id}" if outcome.run_id is not None else "run (not recorded)",
        style="bold",
    )
    head.append(f"  {outcome.task}  ")
    head.append_text(status_text(outcome.status.value))
    head.append(f"  took {duration(outcome.duration_s)}", style="dim")
    shown: list[RenderableType] = [head]
    about = (
        {"error": f"{outcome.error_type}: {outcome.error_message}"} if outcome.error_type else {}
    )
    if outcome.summary and not outcome.error_type:
        about["summary"] = outcome.summary
    shown.append(KeyValues(about))
    result = outcome.result or {}
    if result.get("checks"):
        shown.append(Checklist(result["checks"]))
    figures = result.get("figures") or {}
    table = _TABLES.get(outcome.task)
    if table is not None and figures:
        shown.extend(table(figures))
    return shown


# --- one table per task ------------------------------------------------------------------


def _stats(f: dict[str, Any]) -> list[RenderableType]:
    span = f.get("interval") or {}
    ratio = f.get("hit_ratio")
    return [
        KeyValues(
            {
                "keys (DBSIZE)": f"{f.get('keys', 0):,}",
                "memory": f"{human_bytes(f.get('used_memory_bytes', 0))} of "
                f"{human_bytes(f.get('memory_limit_bytes', 0))}, {f.get('memory_limit')}",
                "used": _pct(f.get("memory_used_ratio")),
                "hit ratio": f"{_pct(ratio)} of {span.get('lookups', 0):,} lookups "
                f"({span.get('basis')}, {span.get('hours')} h)",
                "evicted": f"{span.get('evicted', 0):,}",
                "expired": f"{span.get('expired', 0):,}",
                "fragmentation": f.get("fragmentation_ratio"),
                "policy": f.get("maxmemory_policy"),
            },
            title=f"cache {f.get('cache')}",
        )
    ]


def _sweep_rows(steps: list[dict[str, Any]]) -> Grid:
    columns = [
        Column("pattern", flex=True),
        Column("status"),
        Column("matched", right=True),
        Column("deleted", right=True),
        Column("batches", right=True),
        Column("time", right=True),
    ]
    rows: list[list[Any] | Note] = []
    for s in steps:
        status = s.get("status") or ("dry run" if s.get("dry_run") else "done")
        if status == "skipped":
            rows.append([one_line(s["pattern"]), status_text(status), "-", "-", "-", "-"])
            rows.append(Note(str(s.get("reason", "")), under=0))
            continue
        rows.append(
            [
                one_line(str(s["pattern"])),
                Text(status, style="yellow" if status == "dry run" else "green"),
                f"{s.get('matched', 0):,}",
                "-" if s.get("dry_run") else f"{s.get('deleted', 0):,}",
                f"{s.get('batches', 0):,}",
                duration(s.get("seconds")),
            ]
        )
    return Grid(columns, rows)


def _clear_pattern(f: dict[str, Any]) -> list[RenderableType]:
    keys = f"keys in {f.get('cache')}: {f.get('keys_before', 0):,} before, {f.get('keys_after', 0):,} after"
    return [_sweep_rows([f]), Text(keys, style="dim")]


def _clear(f: dict[str, Any]) -> list[RenderableType]:
    return [_sweep_rows(list(f.get("steps") or []))]


def _flush(f: dict[str, Any]) -> list[RenderableType]:
    return [
        KeyValues(
            {
                "keys before": f"{f.get('keys_before', 0):,}",
                "keys after": f"{f.get('keys_after', 0):,}",
                "allowed by": f.get("authority") or "-",
            },
            title=f"cache {f.get('cache')}" + (" (dry run)" if f.get("dry_run") else ""),
        )
    ]


def _analyze(f: dict[str, Any]) -> list[RenderableType]:
    columns = [
        Column("prefix", flex=True),
        Column("keys", right=True),
        Column("memory", right=True),
        Column("no TTL", right=True),
        Column("unused", right=True),
    ]
    rows = [
        [
            one_line(str(r["prefix"])),
            f"{r['keys']:,}",
            human_bytes(r["memory_bytes"]),
            _pct(r.get("no_ttl_share"), 0),
            _pct(r.get("cold_share"), 0),
        ]
        for r in f.get("prefixes") or []
    ]
    sampled = "every key" if f.get("exact") else f"a sample of {f.get('sampled', 0):,}"
    title = f"prefixes of {f.get('cache')} ({f.get('keys', 0):,} keys; {sampled}; unused: {f.get('cold_measure')})"
    shown: list[RenderableType] = [Grid(columns, rows, title=title)]
    trend = f.get("hit_ratio_trend") or {}
    shown.append(Text(f"hit ratio: {trend.get('direction')} ({trend.get('reads')})"))
    suggestions = f.get("suggestions") or []
    if suggestions:
        shown.append(Text("suggestions", style="bold"))
        for s in suggestions:
            lines = list(wrap(str(s), max((out.width or 80) - 4, 20)))
            shown.append(Text("- " + lines[0] + "".join("\n  " + line for line in lines[1:])))
    return shown


def _pct(ratio: Any, digits: int = 1) -> str:
    return "-" if not isinstance(ratio, int | float) else f"{ratio * 100:.{digits}f}%"


_TABLES = {
    "cache.stats": _stats,
    "cache.clear_pattern": _clear_pattern,
    "cache.clear": _clear,
    "cache.flush": _flush,
    "cache.analyze": _analyze,
}


# --- the verbs ---------------------------------------------------------------------------


@app.command("stats")
def stats(as_json: bool = _JSON) -> None:
    """Memory against maxmemory, hit ratio since the last sample, evictions, key count."""
    _run("cache.stats", {}, as_json)


@app.command("clear")
def clear(
    pattern: str | None = typer.Argument(
        None, help="Redis glob of the keys to delete, e.g. 'report:*' (quote it)."
    ),
    gradual: bool = typer.Option(
        False, "--gradual", help="The playbook's order instead: swaps, schedule (API idle), report."
    ),
    dry_run: bool = _DRY,
    as_json: bool = _JSON,
) -> None:
    """Delete the keys matching PATTERN (SCAN + UNLINK in short batches), or with
    --gradual the playbook's three prefixes. '*' and the like are refused: see flush."""
    if (pattern is None) == (not gradual):
        raise typer.BadParameter("give a PATTERN or --gradual (not both)", param_hint="PATTERN")
    if gradual:
        _run("cache.clear", {"dry_run": dry_run}, as_json)
    _run("cache.clear_pattern", {"pattern": pattern, "dry_run": dry_run}, as_json)


@app.command("flush")
def flush(
    confirm: bool = typer.Option(
        False, "--confirm", help="Required: every key of the cache database is deleted."
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why now, outside a maintenance window (required there; recorded)."
    ),
    dry_run: bool = _DRY,
    as_json: bool = _JSON,
) -> None:
    """FLUSHDB of the cache's own database (never the broker's): --confirm, and --reason
    outside a maintenance window."""
    params: dict[str, Any] = {"confirm": confirm, "dry_run": dry_run}
    if reason is not None:
        params["force_reason"] = reason
    _run("cache.flush", params, as_json)


@app.command("analyze")
def analyze(
    depth: int = typer.Option(
        1, "--depth", min=1, max=5, help="Name segments (up to ':') that make a prefix."
    ),
    as_json: bool = _JSON,
) -> None:
    """Key prefixes by count and memory, TTLs, unused prefixes, hit-ratio trend, suggestions."""
    _run("cache.analyze", {"depth": depth}, as_json)
