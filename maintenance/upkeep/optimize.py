"""``db.optimize``: the monthly "Database full vacuum, index defragmentation" (disruptive).

Tables whose reliable bloat estimate is over ``MAINT_UPKEEP_OPTIMIZE_BLOAT_RATIO`` and
``MAINT_UPKEEP_OPTIMIZE_MIN_BYTES`` are rebuilt, one at a time, the most bloat first:

* with **pg_repack** when its client is installed (``MAINT_UPKEEP_PG_REPACK``) and its
  extension exists in the target database: online, the ACCESS EXCLUSIVE lock only for the
  swap at the end. It runs with ``--no-kill-backend``: pg_repack's default, cancelling
  the application's sessions that hold a conflicting lock, is never what we want; with
  it, pg_repack waits ``--wait-timeout`` and gives that table up;
* otherwise with ``VACUUM FULL``, which holds ACCESS EXCLUSIVE on the table for the whole
  rebuild: every read and write of it waits. The time it held the lock is reported per
  table. The ``rebuild`` kind's lock timeout bounds the wait for that lock.

Then ``ANALYZE`` of the table. The run needs a maintenance window (it is a step of one)
or ``force_reason``; otherwise it is refused as bad input and nothing is done.
``dry_run=true`` lists what would be rebuilt, and how, anywhere.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from pydantic import Field

from maintenance import clock, pg, proc, units
from maintenance.errors import ParamError
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext, window_authority
from maintenance.upkeep import bloat, outcomes
from maintenance.upkeep import session as upkeep
from maintenance.upkeep.session import LockTimeout, StatementTimeout

TASK = "db.optimize"

#: pg_repack's warning for a table it cannot rewrite online.
_NO_KEY = re.compile(r"primary key|unique key", re.I)


class OptimizeParams(Params):
    force_reason: str | None = Field(
        None,
        min_length=3,
        max_length=500,
        description="Why the tables are rebuilt outside a maintenance window (recorded).",
    )
    dry_run: bool = Field(False, description="List the tables that would be rebuilt, and how.")


def choose(estimates: Sequence[bloat.Bloat], min_ratio: float, min_bytes: int) -> list[bloat.Bloat]:
    """The tables worth a rebuild (:func:`.bloat.over` of the table estimates; pure)."""
    return bloat.over([b for b in estimates if not b.index], min_ratio, min_bytes)


def authority(ctx: RunContext, params: OptimizeParams) -> str | None:
    """What allows the rebuilds (None for a dry run), or ParamError naming what is missing."""
    if params.dry_run:
        return None
    allowed = window_authority(ctx.trigger, ctx.window_run_id, params.force_reason)
    if allowed is None:
        raise ParamError(
            f"{TASK}: rebuilds lock tables (VACUUM FULL) and belong in the monthly window; "
            "outside it give force_reason (why it cannot wait; it is recorded), or dry_run=true"
        )
    return allowed


def run(ctx: RunContext, params: OptimizeParams) -> Result:
    """Rebuild the bloated tables (module text)."""
    allowed = authority(ctx, params)
    t0 = clock.monotonic()
    st = ctx.settings
    with upkeep.open_session(st, TASK) as s:
        upkeep.refuse_if_blocked(s, TASK)
        estimates = bloat.tables(s.using("read"))
        chosen = choose(estimates, st.upkeep_optimize_bloat_ratio, st.upkeep_optimize_min_bytes)
        method = "pg_repack" if _repack_ready(s) else "vacuum_full"
        rows = [_rebuild(s, b, method, params.dry_run) for b in chosen]
    return _result(rows, len(estimates), method, allowed, params.dry_run, clock.monotonic() - t0)


def _repack_ready(s: upkeep.UpkeepSession) -> bool:
    binary = s.settings.upkeep_pg_repack
    if not binary or shutil.which(binary) is None:
        return False
    return bool(s.rows("read", "SELECT 1 FROM pg_extension WHERE extname = 'pg_repack'"))


def _rebuild(s: upkeep.UpkeepSession, b: bloat.Bloat, method: str, dry_run: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "table": b.name,
        "method": method,
        "estimated_bloat_ratio": round(b.ratio, 3),
        "bytes_before": _total_size(s, b),
    }
    if dry_run:
        row.update(status="would rebuild", bytes_after=row["bytes_before"])
        return row
    t0 = clock.monotonic()
    try:
        if method == "pg_repack":
            before = _filenode(s, b)
            note = _repack(s, b)
            if _filenode(s, b) == before:
                # pg_repack 1.4 warns and exits 0 when it did nothing: for a table it cannot
                # repack (no primary key or unique NOT NULL index) VACUUM FULL does it; when
                # it gave up waiting for a lock (--no-kill-backend), the table is left alone
                if not _NO_KEY.search(note):
                    raise _RepackFailed(note or "pg_repack left the table as it was")
                method = row["method"] = "vacuum_full"
                row["why_not_repack"] = note
        if method == "vacuum_full":
            target = upkeep.qualified(b.schema, b.table)
            row["exclusive_lock_s"] = round(
                s.timed("rebuild", sql.SQL("VACUUM FULL {}").format(target)), 3
            )
        s.execute("analyze", sql.SQL("ANALYZE {}").format(upkeep.qualified(b.schema, b.table)))
    except (LockTimeout, StatementTimeout, _RepackFailed, psycopg.Error) as exc:
        row.update(status="failed", why=f"{type(exc).__name__}: {str(exc).strip()[:300]}")
    else:
        row["status"] = "rebuilt"
    row["seconds"] = round(clock.monotonic() - t0, 3)
    row["bytes_after"] = _total_size(s, b)
    return row


class _RepackFailed(Exception):
    """pg_repack exited non-zero (private: a failed table of the result)."""


def _filenode(s: upkeep.UpkeepSession, b: bloat.Bloat) -> int | None:
    rows = s.rows(
        "read",
        "SELECT pg_relation_filenode(to_regclass(%s))",
        (upkeep.regclass(b.schema, b.table),),
    )
    return rows[0][0] if rows else None


def _repack(s: upkeep.UpkeepSession, b: bloat.Bloat) -> str:
    """Run pg_repack on one table; its last warning (it may exit 0 and do nothing)."""
    st = s.settings
    dsn = st.target_dsn.get_secret_value()
    wait_s = max(1, int(st.upkeep_lock_timeout_ms["rebuild"] / 1000))
    argv = [
        st.upkeep_pg_repack or "pg_repack",
        "--no-order",
        "--no-kill-backend",
        f"--wait-timeout={wait_s}",
        "--no-password",
        f"--table={b.schema}.{b.table}",
    ]
    done = proc.run(
        argv,
        env=pg.libpq_env(dsn),
        timeout=st.upkeep_statement_timeout_s["rebuild"],
        name="pg_repack",
    )
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    if done.returncode != 0:
        raise _RepackFailed(last or f"exit {done.returncode}")
    return last


def _total_size(s: upkeep.UpkeepSession, b: bloat.Bloat) -> int | None:
    name = upkeep.regclass(b.schema, b.table)
    rows = s.rows("read", "SELECT pg_total_relation_size(to_regclass(%s))", (name,))
    return rows[0][0] if rows else None


def _result(
    rows: list[dict[str, Any]],
    considered: int,
    method: str,
    allowed: str | None,
    dry_run: bool,
    seconds: float,
) -> Result:
    result = Result()
    result.check("no blocking sessions", True, observed=0, expected="none (checked first)")
    if allowed is not None:
        result.check("rebuild allowed", True, observed=allowed, expected="a window, or a reason")
    failed = outcomes.rebuilt_check(result, rows, "table", "table")
    reclaimed = outcomes.shrunk_bytes(rows)
    locked = [r["exclusive_lock_s"] for r in rows if "exclusive_lock_s" in r]
    result.figures = {
        "dry_run": dry_run,
        "method": method,
        "authority": allowed,
        "tables": rows,
        "tables_considered": considered,
        "reclaimed_bytes": reclaimed,
        "longest_exclusive_lock_s": max(locked) if locked else None,
        "duration_s": round(seconds, 3),
    }
    how = "pg_repack (online)" if method == "pg_repack" else "VACUUM FULL (locks each table)"
    fell_back = [r["table"] for r in rows if "why_not_repack" in r]
    if fell_back:
        how += f", VACUUM FULL for {', '.join(fell_back)} (pg_repack could not)"
    if dry_run:
        result.summary = f"dry run: would rebuild {len(rows)} of {considered} tables with {how}"
    else:
        result.summary = (
            f"rebuilt {len(rows) - len(failed)} of {considered} tables with {how}, reclaimed "
            f"{units.human_bytes(reclaimed)} in {seconds:.1f} s"
            + (f"; longest table lock {max(locked):.1f} s" if locked else "")
            + (f"; failed {', '.join(r['table'] for r in failed)}" if failed else "")
        )
    return result
