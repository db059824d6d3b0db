"""``db.stats``: the playbook's DATA STATISTICS, exactly.

Server version, database size, and exact row counts (``count(*)``, never the
``n_live_tup`` estimate) from the configured count queries, run read-only with a
statement timeout. A count that cannot be taken (a missing table) is a failed check,
not an exception: the rest of the checklist is still reported.
"""

from __future__ import annotations

from pydantic import Field

from maintenance import clock, dbcheck, pg
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


class StatsParams(Params):
    statement_timeout_s: float = Field(
        300, gt=0, le=86_400, description="Abort any single count query after this many seconds."
    )


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
        facts = dbcheck.server_facts(conn)
        result.check("database answers", True, observed=facts["database"], expected=pg.dbname(dsn))
        counts, errors = dbcheck.named_counts(conn, ctx.settings.stats_counts)
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
