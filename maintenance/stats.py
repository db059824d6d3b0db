"""``db.stats``: the playbook's DATA STATISTICS, exactly.

Server version, database size, and exact row counts (``count(*)``, never the
``n_live_tup`` estimate) from the configured count queries, run read-only with a
statement timeout. A count that cannot be taken (a missing table) is a failed check,
not an exception: the rest of the checklist is still reported.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pydantic import Field

from maintenance import clock, pg, redact
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


class StatsParams(Params):
    statement_timeout_s: float = Field(
        300, gt=0, le=86_400, description="Abort any single count query after this many seconds."
    )


def server_facts(conn: psycopg.Connection) -> dict[str, Any]:
    """Version, database name and size, and the list of user tables."""
    # server_version reads "15.20 (Debian 15.20-0+deb12u1)": the first word is the version
    version = conn.execute("SELECT version(), current_setting('server_version')").fetchone()
    size = conn.execute(
        "SELECT current_database(), pg_database_size(current_database())"
    ).fetchone()
    tables = conn.execute(
        """SELECT n.nspname || '.' || c.relname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%%'
            ORDER BY 1"""
    ).fetchall()
    assert version is not None
    assert size is not None
    return {
        "server_version": str(version[1]).split()[0],
        "server_version_full": version[0],
        "database": size[0],
        "database_size_bytes": int(size[1]),
        "tables": [t[0] for t in tables],
    }


def exact_counts(
    conn: psycopg.Connection, queries: dict[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    """Run each count query; return (counts, errors by name)."""
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, sql in queries.items():
        try:
            # its own transaction or savepoint: a failed count must not abort the others
            with conn.transaction():
                row = conn.execute(sql).fetchone()  # operator-configured, validated as a SELECT
        except psycopg.errors.QueryCanceled:
            errors[name] = "statement timeout"
            continue
        except psycopg.Error as exc:
            errors[name] = redact.scrub(str(exc).strip().splitlines()[0])
            continue
        if row is None or not isinstance(row[0], int):
            errors[name] = f"query did not return one integer (got {row!r})"
        else:
            counts[name] = int(row[0])
    return counts, errors


def collect(ctx: RunContext, params: StatsParams) -> Result:
    """Report the target database's statistics as a checklist."""
    t0 = clock.monotonic()
    dsn = ctx.settings.target_dsn.get_secret_value()
    result = Result()
    with pg.connect(dsn) as conn:
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            (f"{int(params.statement_timeout_s * 1000)}ms",),
        )
        facts = server_facts(conn)
        result.check("database answers", True, observed=facts["database"], expected=pg.dbname(dsn))
        counts, errors = exact_counts(conn, ctx.settings.stats_counts)
    for name in ctx.settings.stats_counts:
        if name in counts:
            result.check(f"count {name}", True, observed=counts[name], expected="an exact count")
        else:
            result.check(f"count {name}", False, observed=errors[name], expected="an exact count")
    result.figures = {
        **{k: v for k, v in facts.items() if k != "tables"},
        "table_count": len(facts["tables"]),
        "tables": facts["tables"],
        "counts": counts,
        "duration_s": round(clock.monotonic() - t0, 3),
    }
    size_mb = facts["database_size_bytes"] / 1e6
    shown = ", ".join(f"{k} {v}" for k, v in counts.items())
    result.summary = (
        f"{facts['database']} on PostgreSQL {facts['server_version']}, {size_mb:.1f} MB: {shown}"
        if not errors
        else f"{len(errors)} count(s) failed: " + ", ".join(f"{k} ({v})" for k, v in errors.items())
    )
    return result
