"""``db.reindex``: the weekly "Index rebuilding", online and only where it pays.

1. **Leftovers first.** A ``REINDEX CONCURRENTLY`` or ``CREATE INDEX CONCURRENTLY``
   that failed leaves an INVALID index behind (``<name>_ccnew``, or ``<name>_ccold`` after
   a late failure) that no query uses and every write still maintains. Each INVALID
   index that no build in progress owns (``pg_stat_progress_create_index``) is dropped
   with ``DROP INDEX CONCURRENTLY`` and reported. A *valid* index merely named like a
   leftover is reported, never dropped.
2. **Then the bloated.** :func:`choose` (pure) picks the B-tree indexes whose reliable
   estimate (:mod:`.bloat`) is over ``MAINT_UPKEEP_REINDEX_BLOAT_RATIO`` and
   ``MAINT_UPKEEP_REINDEX_MIN_BYTES``; each is rebuilt with ``REINDEX INDEX
   CONCURRENTLY``, which takes no lock the application's reads and writes wait for
   except briefly at its start and its swap (bounded by the ``reindex`` kind's
   ``lock_timeout``). A rebuild that fails has its own ``_ccnew`` leftover dropped at
   once when it can be; otherwise the next run finds it.

The result has, per index, its size before and after and what happened, and the space
reclaimed (rebuilds plus dropped leftovers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from pydantic import Field

from maintenance import clock, units
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.upkeep import bloat, outcomes
from maintenance.upkeep import session as upkeep
from maintenance.upkeep.session import LockTimeout, StatementTimeout

TASK = "db.reindex"

#: Names PostgreSQL gives the transient indexes of REINDEX CONCURRENTLY.
LEFTOVER_NAME = r"_cc(new|old)[0-9]*$"

_LEFTOVERS = """
SELECT n.nspname, t.relname, i.relname, pg_relation_size(i.oid), x.indisvalid,
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                WHERE p.index_relid = i.oid OR p.relid = t.oid)
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = i.relnamespace
 WHERE (NOT x.indisvalid OR i.relname ~ %s)
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%%'
 ORDER BY n.nspname, i.relname
"""


class ReindexParams(Params):
    dry_run: bool = Field(
        False,
        description="Report the leftovers and the indexes that would be rebuilt; change nothing.",
    )


def choose(estimates: Sequence[bloat.Bloat], min_ratio: float, min_bytes: int) -> list[bloat.Bloat]:
    """The indexes worth rebuilding (:func:`.bloat.over` of the index estimates; pure)."""
    return bloat.over([b for b in estimates if b.index], min_ratio, min_bytes)


def run(ctx: RunContext, params: ReindexParams) -> Result:
    """Drop the leftovers, then rebuild the bloated indexes (module text)."""
    t0 = clock.monotonic()
    st = ctx.settings
    with upkeep.open_session(st, TASK) as s:
        upkeep.refuse_if_blocked(s, TASK)
        leftovers = [_leftover(r) for r in s.rows("read", _LEFTOVERS, (LEFTOVER_NAME,))]
        for item in leftovers:
            if item["action"] == "drop":
                item.update(_drop(s, item, params.dry_run))
        estimates = bloat.indexes(s.using("read"))
        chosen = choose(estimates, st.upkeep_reindex_bloat_ratio, st.upkeep_reindex_min_bytes)
        rebuilt = [_rebuild(s, b, params.dry_run) for b in chosen]
    return _result(leftovers, rebuilt, len(estimates), params.dry_run, clock.monotonic() - t0)


def _leftover(row: Sequence[Any]) -> dict[str, Any]:
    schema, table, index, size, valid, building = row
    item: dict[str, Any] = {"index": f"{schema}.{index}", "table": f"{schema}.{table}"}
    item.update(bytes=size, valid=valid)
    if valid:
        item.update(action="keep", status="kept", why="named like a leftover but valid")
    elif building:
        item.update(action="keep", status="kept", why="a build of this table is in progress")
    else:
        item.update(action="drop")
    return item


def _drop(s: upkeep.UpkeepSession, item: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    if dry_run:
        return {"status": "would drop"}
    schema, index = item["index"].split(".", 1)
    query = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(upkeep.qualified(schema, index))
    try:
        s.execute("drop_index", query)
    except (LockTimeout, StatementTimeout, psycopg.Error) as exc:
        return {"status": "failed", "why": _why(exc)}
    return {"status": "dropped"}


def _rebuild(s: upkeep.UpkeepSession, b: bloat.Bloat, dry_run: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "index": b.name,
        "table": f"{b.schema}.{b.table}",
        "estimated_bloat_ratio": round(b.ratio, 3),
        "bytes_before": _size(s, b.name),
    }
    if dry_run:
        row.update(status="would rebuild", bytes_after=row["bytes_before"], seconds=0.0)
        return row
    query = sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(
        upkeep.qualified(b.schema, b.index or "")
    )
    t0 = clock.monotonic()
    try:
        s.execute("reindex", query)
    except (LockTimeout, StatementTimeout, psycopg.Error) as exc:
        row.update(status="failed", why=_why(exc))
        row["leftover"] = _drop_own_leftover(s, b)
    else:
        row["status"] = "rebuilt"
    row["seconds"] = round(clock.monotonic() - t0, 3)
    row["bytes_after"] = _size(s, b.name)
    return row


def _drop_own_leftover(s: upkeep.UpkeepSession, b: bloat.Bloat) -> str | None:
    """Drop the INVALID ``<index>_ccnew`` a failed rebuild left; what happened to it."""
    rows = s.rows(
        "read",
        """SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = i.relnamespace
           WHERE n.nspname = %s AND NOT x.indisvalid AND i.relname ~ %s""",
        (b.schema, "^" + re.escape(b.index or "") + LEFTOVER_NAME),
    )
    if not rows:
        return None
    (name,) = rows[0]
    outcome = _drop(s, {"index": f"{b.schema}.{name}"}, dry_run=False)
    return f"{b.schema}.{name} {outcome['status']}" + (
        f" ({outcome['why']}; the next run drops it)" if "why" in outcome else ""
    )


def _size(s: upkeep.UpkeepSession, name: str) -> int | None:
    schema, rel = name.split(".", 1)
    rows = s.rows(
        "read", "SELECT pg_relation_size(to_regclass(%s))", (upkeep.regclass(schema, rel),)
    )
    return rows[0][0] if rows else None


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _result(
    leftovers: list[dict[str, Any]],
    rebuilt: list[dict[str, Any]],
    considered: int,
    dry_run: bool,
    seconds: float,
) -> Result:
    result = Result()
    result.check("no blocking sessions", True, observed=0, expected="none (checked first)")
    to_drop = [item for item in leftovers if item["action"] == "drop"]
    failed_drops = [item for item in to_drop if item.get("status") == "failed"]
    result.check(
        "no leftover INVALID indexes",
        not failed_drops,
        observed=", ".join(f"{i['index']} {i['status']}" for i in to_drop) or "none found",
        expected="none, or dropped",
        warn_only=True,
        detail="; ".join(f"{i['index']}: {i['why']}" for i in failed_drops) or None,
    )
    failed = outcomes.rebuilt_check(result, rebuilt, "index", "index")
    rebuilt_bytes = outcomes.shrunk_bytes(rebuilt)
    dropped_bytes = sum(i["bytes"] or 0 for i in to_drop if i.get("status") == "dropped")
    reclaimed = rebuilt_bytes + dropped_bytes
    result.figures = {
        "dry_run": dry_run,
        "leftovers": leftovers,
        "indexes": rebuilt,
        "indexes_considered": considered,
        "reclaimed_bytes": reclaimed,
        "reclaimed_by_rebuilds_bytes": rebuilt_bytes,
        "reclaimed_by_drops_bytes": dropped_bytes,
        "duration_s": round(seconds, 3),
    }
    verb = "would rebuild" if dry_run else "rebuilt"
    done = len(rebuilt) if dry_run else len(rebuilt) - len(failed)
    result.summary = (
        f"{verb} {done} of {considered} indexes"
        + (
            f", dropped {len(to_drop) - len(failed_drops)} leftover(s)"
            if to_drop and not dry_run
            else ""
        )
        + (f", {len(to_drop)} leftover(s) to drop" if to_drop and dry_run else "")
        + (f"; reclaimed {units.human_bytes(reclaimed)}" if not dry_run else "")
        + (f" in {seconds:.1f} s" if not dry_run else "")
        + (f"; failed {', '.join(r['index'] for r in failed)}" if failed else "")
    )
    return result
