"""``maint db``: the job-history database (upgrade, current) and the target database's
weekly query analysis (report; docs/upkeep.md)."""

from __future__ import annotations

from typing import Any

import typer

from maintenance import pg
from maintenance.cli.fit import Column, Grid, KeyValues, one_line
from maintenance.cli.render import out
from maintenance.cli.verb import run_task
from maintenance.config import get_settings
from maintenance.units import human_bytes

app = typer.Typer(
    help="The job-history database, and the target database's query analysis.",
    no_args_is_help=True,
)

#: Rows of each table the readable report shows (--json has them all).
SHOWN = 10


@app.command("report")
def report(as_json: bool = typer.Option(False, "--json", help="Print the run as JSON.")) -> None:
    """Query analysis of the target database (db.report): bloat, dead tuples, vacuum and
    analyze times, XID age, unused and duplicate indexes, cache hit ratio, connections,
    the slowest and most frequent statements."""
    run_task("db.report", {}, as_json, report_tables)


def report_tables(f: dict[str, Any]) -> list[Any]:
    """The readable tables of a db.report run's figures."""
    if "xid" not in f:  # skipped, or failed before it read anything
        return []
    parts: list[Any] = []
    bloated = [b for b in f.get("table_bloat", []) + f.get("index_bloat", []) if b["bloat_bytes"]]
    bloated.sort(key=lambda b: -b["bloat_bytes"])
    if bloated:
        rows = [
            [
                f"{b['schema']}.{b.get('index') or b['table']}",
                "index" if b.get("index") else "table",
                human_bytes(b["real_bytes"]),
                human_bytes(b["bloat_bytes"]),
                f"{b['bloat_ratio']:.0%}",
                "" if b["reliable"] else "unreliable",
            ]
            for b in bloated[:SHOWN]
        ]
        cols = [
            Column("relation"),
            Column("kind"),
            Column("size", right=True),
            Column("bloat", right=True),
            Column("share", right=True),
            Column("note", flex=True),
        ]
        parts.append(Grid(cols, rows, title="estimated bloat, largest first"))
    if f.get("tables"):
        rows = [
            [
                t["table"],
                f"{t['live']:,}",
                f"{t['dead']:,}",
                "-" if t["dead_ratio"] is None else f"{t['dead_ratio']:.0%}",
                _when(t["last_vacuum"]),
                _when(t["last_analyzed"]),
            ]
            for t in f["tables"][:SHOWN]
        ]
        cols = [
            Column("table"),
            Column("live", right=True),
            Column("dead", right=True),
            Column("dead %", right=True),
            Column("last vacuum"),
            Column("last analyze"),
        ]
        parts.append(Grid(cols, rows, title="tables, most dead tuples first"))
    xid, conn = f.get("xid") or {}, f.get("connections") or {}
    facts = {
        "database size": human_bytes(f.get("database_size_bytes") or 0),
        "transaction ID age": f"{xid.get('database_age', 0):,} "
        f"(freeze at {xid.get('freeze_max_age', 0):,}, wraparound at 2,147,483,648)",
        "cache hit ratio": "-"
        if f.get("cache_hit_ratio") is None
        else f"{f['cache_hit_ratio']:.2%}",
        "connections": f"{conn.get('total')} of {conn.get('max_connections')} "
        f"({', '.join(f'{k} {v}' for k, v in (conn.get('by_state') or {}).items())})",
        "unused indexes": ", ".join(
            f"{i['index']} ({human_bytes(i['bytes'])})" for i in f.get("unused_indexes", [])[:SHOWN]
        )
        or "none",
        "duplicate indexes": "; ".join(" = ".join(g) for g in f.get("duplicate_indexes", []))
        or "none",
        "statistics since": f.get("statistics_since") or "the server started",
    }
    parts.append(KeyValues(facts, title="database"))
    stm = f.get("statements") or {}
    if "unavailable" in stm:
        parts.append(KeyValues({"pg_stat_statements": stm["unavailable"]}))
    for key, title in (
        ("slowest", "slowest statements (mean)"),
        ("most_frequent", "most frequent"),
    ):
        if stm.get(key):
            rows = [
                [f"{r['mean_ms']:.1f} ms", f"{r['calls']:,}", one_line(r["query"])]
                for r in stm[key]
            ]
            cols = [
                Column("mean", right=True),
                Column("calls", right=True),
                Column("query", flex=True),
            ]
            parts.append(Grid(cols, rows, title=title))
    return parts


def _when(iso: str | None) -> str:
    return "never" if not iso else iso[:16].replace("T", " ")


@app.command("upgrade")
def upgrade() -> None:
    """Create the history database if needed and migrate it to the latest schema (idempotent)."""
    from maintenance.history import migrate  # alembic is slow to import: only here

    settings = get_settings()
    dsn = settings.history_dsn.get_secret_value()
    before, after, created = migrate.upgrade(dsn)
    host, port = pg.server_identity(dsn)
    where = f"{pg.dbname(dsn)} on {host}:{port}"
    if created:
        out.print(f"created database {where}")
    if before == after:
        out.print(f"history database {where} is up to date (revision {after})")
    else:
        out.print(f"history database {where} migrated {before or 'empty'} -> {after}")


@app.command("current")
def current() -> None:
    """Print the history database's schema revision and the latest one."""
    from maintenance.history import migrate

    dsn = get_settings().history_dsn.get_secret_value()
    rev = migrate.current(dsn)
    out.print(f"current {rev or 'none'}, head {migrate.head()}")
    if rev != migrate.head():
        raise typer.Exit(1)
