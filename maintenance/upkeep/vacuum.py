"""``db.vacuum_analyze``: the weekly "Vacuum and analyze", table by table.

Each user table gets ``VACUUM (ANALYZE, SKIP_LOCKED)`` under the ``vacuum`` kind's
timeouts (docs/upkeep.md). Plain VACUUM takes ``SHARE UPDATE EXCLUSIVE``, which the
application's reads and writes do not conflict with; ``SKIP_LOCKED`` makes a table that
another session holds a conflicting lock on be skipped at once (PostgreSQL says so in a
WARNING, which is caught) instead of waited for. A skipped table is a warning of the
run, never a failure; an error on one table does not stop the others.

The result has, per table: dead tuples before and after, the seconds it took, and what
happened (``vacuumed``, ``skipped`` and why, ``failed`` and why).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from pydantic import Field, field_validator

from maintenance import clock
from maintenance.errors import ParamError
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.upkeep import session as upkeep
from maintenance.upkeep.session import LockTimeout, StatementTimeout

TASK = "db.vacuum_analyze"

_TABLES = """
SELECT schemaname, relname, n_dead_tup, n_live_tup
  FROM pg_stat_user_tables
 ORDER BY n_dead_tup DESC, schemaname, relname
"""


class VacuumParams(Params):
    tables: list[str] | None = Field(
        None,
        description="Only these tables (schema.table; JSON list or one name); default: every "
        "user table, the most dead tuples first.",
    )

    @field_validator("tables", mode="before")
    @classmethod
    def _one_name(cls, value: object) -> object:
        return [value] if isinstance(value, str) and not value.lstrip().startswith("[") else value


def dead_tuples(s: upkeep.UpkeepSession) -> dict[str, tuple[int, int]]:
    """``schema.table`` -> (dead, live) tuples, from the statistics."""
    return {f"{sc}.{t}": (dead, live) for sc, t, dead, live in s.rows("read", _TABLES)}


def run(ctx: RunContext, params: VacuumParams) -> Result:
    """Vacuum and analyze every table (or the ones named), reporting each."""
    t0 = clock.monotonic()
    with upkeep.open_session(ctx.settings, TASK) as s:
        upkeep.refuse_if_blocked(s, TASK)
        before = dead_tuples(s)
        names = _chosen(list(before), params.tables)
        notices: list[str] = []
        s.conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        rows = []
        for name in names:
            notices.clear()
            row = _vacuum_one(s, name, notices)
            rows.append(row)
        after = dead_tuples(s)
    for row in rows:
        row["dead_before"], row["live_before"] = before.get(row["table"], (None, None))
        row["dead_after"] = after.get(row["table"], (None, None))[0]
    return _result(rows, clock.monotonic() - t0)


def _chosen(known: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return known
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ParamError(
            f"{TASK}: no such table(s) {', '.join(unknown)} (give schema.table; known: "
            f"{', '.join(known[:10])}{' ...' if len(known) > 10 else ''})"
        )
    return list(wanted)


def _vacuum_one(s: upkeep.UpkeepSession, name: str, notices: list[str]) -> dict[str, Any]:
    schema, table = name.split(".", 1)
    query = sql.SQL("VACUUM (ANALYZE, SKIP_LOCKED) {}").format(upkeep.qualified(schema, table))
    row: dict[str, Any] = {"table": name}
    t0 = clock.monotonic()
    try:
        s.execute("vacuum", query)
    except LockTimeout as exc:
        row.update(status="skipped", why=str(exc))
    except StatementTimeout as exc:
        row.update(status="failed", why=str(exc))
    except psycopg.Error as exc:
        row.update(status="failed", why=f"{type(exc).__name__}: {str(exc).strip()}")
    else:
        skipped = [n for n in notices if n.startswith("skipping")]
        if skipped:
            row.update(status="skipped", why="; ".join(skipped))
        else:
            row["status"] = "vacuumed"
    row["seconds"] = round(clock.monotonic() - t0, 3)
    return row


def _result(rows: list[dict[str, Any]], seconds: float) -> Result:
    result = Result()
    result.check("no blocking sessions", True, observed=0, expected="none (checked first)")
    done = [r for r in rows if r["status"] == "vacuumed"]
    skipped = [r for r in rows if r["status"] == "skipped"]
    failed = [r for r in rows if r["status"] == "failed"]
    result.check(
        "every table vacuumed and analyzed",
        not skipped,
        observed=f"{len(done)} of {len(rows)}"
        + (f"; skipped {', '.join(r['table'] for r in skipped)}" if skipped else ""),
        expected="all of them",
        warn_only=True,
        detail="; ".join(f"{r['table']}: {r['why']}" for r in skipped) or None,
    )
    if failed:
        result.check(
            "no table failed",
            False,
            observed=", ".join(f"{r['table']} ({r['why']})" for r in failed),
            expected="none",
        )
    dead_before = sum(r["dead_before"] or 0 for r in rows)
    dead_after = sum(r["dead_after"] or 0 for r in rows)
    result.figures = {
        "tables": rows,
        "vacuumed": len(done),
        "skipped": [r["table"] for r in skipped],
        "failed": [r["table"] for r in failed],
        "dead_tuples_before": dead_before,
        "dead_tuples_after": dead_after,
        "duration_s": round(seconds, 3),
    }
    result.summary = (
        f"vacuumed and analyzed {len(done)}/{len(rows)} tables in {seconds:.1f} s, dead tuples "
        f"{dead_before:,} -> {dead_after:,}"
        + (f"; skipped {', '.join(r['table'] for r in skipped)}" if skipped else "")
        + (f"; failed {', '.join(r['table'] for r in failed)}" if failed else "")
    )
    return result
