"""``db.report``: the weekly "Query analysis", read-only.

What it reports (:mod:`.facts` reads it, :func:`judge` turns it into the checklist, pure):

* bloat estimates of tables and B-tree indexes, the largest first (what ``db.reindex``
  and ``db.optimize`` would act on is flagged);
* per table: live and dead tuples, the dead share, the last (auto)vacuum and
  (auto)analyze; a warn for a high dead share or a table with rows never analyzed;
* transaction-ID age of the database and its oldest tables, against
  ``autovacuum_freeze_max_age`` (warn) and the 2^31 wraparound limit (fail);
* unused indexes (no scan since the statistics were reset; not unique, not a
  constraint's) and duplicate indexes (same table, columns, operator classes,
  expressions, predicate and method);
* the buffer cache hit ratio and connections against ``max_connections``;
* the slowest and the most frequent statements from ``pg_stat_statements`` when it can
  be read, or a plain note on how to enable it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from maintenance import clock
from maintenance.config import Settings
from maintenance.results import Result
from maintenance.taskspec import NoParams, RunContext
from maintenance.units import human_bytes
from maintenance.upkeep import facts as upkeep_facts
from maintenance.upkeep import optimize, reindex
from maintenance.upkeep import session as upkeep

TASK = "db.report"
WRAPAROUND = 2**31
ENABLE_STATEMENTS = (
    "to enable it: shared_preload_libraries = 'pg_stat_statements' in postgresql.conf, restart "
    "PostgreSQL, then CREATE EXTENSION pg_stat_statements; in the target database"
)


def run(ctx: RunContext, params: NoParams) -> Result:
    """Read everything, then judge it (module text)."""
    t0 = clock.monotonic()
    with upkeep.open_session(ctx.settings, TASK) as s:
        upkeep.refuse_if_blocked(s, TASK)
        found = upkeep_facts.read(s)
    result = judge(found, ctx.settings, clock.now())
    result.figures["duration_s"] = round(clock.monotonic() - t0, 3)
    return result


def duplicates(indexes: list[dict[str, Any]]) -> list[list[str]]:
    """Groups of valid indexes that are the same index twice (pure)."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ix in indexes:
        if ix.get("valid", True):
            groups[(ix["table"], ix["signature"])].append(ix["index"])
    return [sorted(names) for names in groups.values() if len(names) > 1]


def unused(indexes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Valid indexes never scanned that no constraint needs, the largest first (pure)."""
    out = [
        {"index": ix["index"], "table": ix["table"], "bytes": ix["bytes"]}
        for ix in indexes
        if ix.get("valid", True)
        and ix["scans"] == 0
        and not (ix["unique"] or ix["primary"] or ix["constraint"])
    ]
    return sorted(out, key=lambda r: (-r["bytes"], r["index"]))


def judge(f: dict[str, Any], st: Settings, now: datetime) -> Result:
    """The report's checklist, figures and summary from the facts (pure)."""
    result = Result()
    result.check("no blocking sessions", True, observed=0, expected="none (checked first)")
    tables = [_table_row(t, now) for t in f["tables"]]
    dead_heavy = [
        t
        for t in tables
        if t["dead"] >= 1000 and (t["dead_ratio"] or 0) >= st.upkeep_dead_tuples_warn_ratio
    ]
    result.check(
        "dead tuples under the threshold",
        not dead_heavy,
        observed=", ".join(f"{t['table']} {t['dead_ratio']:.0%}" for t in dead_heavy)
        or "none over",
        expected=f"< {st.upkeep_dead_tuples_warn_ratio:.0%} dead per table",
        warn_only=True,
        detail="db.vacuum_analyze clears them" if dead_heavy else None,
    )
    never = [t["table"] for t in tables if t["live"] > 0 and t["last_analyzed"] is None]
    result.check(
        "every table analyzed",
        not never,
        observed=", ".join(never) or "all",
        expected="statistics for every table with rows",
        warn_only=True,
    )
    _xid_check(result, f["xid"], st)
    # the tasks' own rules: what db.reindex and db.optimize would rebuild
    over_reindex = reindex.choose(
        f["index_bloat"], st.upkeep_reindex_bloat_ratio, st.upkeep_reindex_min_bytes
    )
    over_optimize = optimize.choose(
        f["table_bloat"], st.upkeep_optimize_bloat_ratio, st.upkeep_optimize_min_bytes
    )
    result.check(
        "bloat under the rebuild thresholds",
        not over_reindex and not over_optimize,
        observed=", ".join(
            [f"index {b.name} {b.ratio:.0%}" for b in over_reindex]
            + [f"table {b.name} {b.ratio:.0%}" for b in over_optimize]
        )
        or "none over",
        expected="db.reindex / db.optimize thresholds",
        warn_only=True,
        detail="db.reindex (weekly) and db.optimize (monthly) rebuild them"
        if over_reindex or over_optimize
        else None,
    )
    idle = unused(f["indexes"])
    since = f["database"].get("stats_reset")
    result.check(
        "no unused indexes",
        not idle,
        observed=", ".join(i["index"] for i in idle[:5]) + (" ..." if len(idle) > 5 else "")
        or "none",
        expected="every index scanned since "
        + (f"{since:%Y-%m-%d}" if since else "the statistics began"),
        warn_only=True,
        detail="each costs every write; drop it after checking with the application's owners"
        if idle
        else None,
    )
    twins = duplicates(f["indexes"])
    result.check(
        "no duplicate indexes",
        not twins,
        observed="; ".join(" = ".join(g) for g in twins) or "none",
        expected="each index once",
        warn_only=True,
    )
    hit_ratio = _ratio(f["database"]["hit"], f["database"]["read"])
    result.check(
        "buffer cache hit ratio",
        hit_ratio is None or hit_ratio >= st.upkeep_cache_hit_warn_ratio,
        observed="no reads yet" if hit_ratio is None else f"{hit_ratio:.2%}",
        expected=f">= {st.upkeep_cache_hit_warn_ratio:.0%}",
        warn_only=True,
    )
    c = f["connections"]
    usable = max(1, c["max_connections"] - c["reserved"])
    result.check(
        "connections under the limit",
        c["total"] / usable < st.upkeep_connections_warn_ratio,
        observed=f"{c['total']} of {usable} ({c['max_connections']} max_connections)",
        expected=f"< {st.upkeep_connections_warn_ratio:.0%}",
        warn_only=True,
    )
    stm = f["statements"]
    result.check(
        "pg_stat_statements readable",
        "unavailable" not in stm,
        observed=stm.get("unavailable", "yes"),
        expected="the slowest and most frequent statements",
        warn_only=True,
        detail=ENABLE_STATEMENTS if "unavailable" in stm else None,
    )
    result.figures = {
        "database_size_bytes": f["database"]["size_bytes"],
        "tables": tables,
        "table_bloat": [
            b.to_dict() for b in sorted(f["table_bloat"], key=lambda b: -b.bloat_bytes)
        ],
        "index_bloat": [
            b.to_dict() for b in sorted(f["index_bloat"], key=lambda b: -b.bloat_bytes)
        ],
        "xid": f["xid"],
        "unused_indexes": idle,
        "duplicate_indexes": twins,
        "statistics_since": since.isoformat() if since else None,
        "cache_hit_ratio": None if hit_ratio is None else round(hit_ratio, 4),
        "connections": c,
        "statements": stm,
    }
    warned = [ch.name for ch in result.warnings]
    result.summary = (
        f"{len(tables)} tables, {len(f['index_bloat'])} B-tree indexes, "
        f"{human_bytes(sum(b.bloat_bytes for b in f['table_bloat'] + f['index_bloat']))} estimated bloat; "
        + (f"to look at: {', '.join(warned)}" if warned else "nothing to look at")
    )
    return result


def _xid_check(result: Result, xid: dict[str, Any], st: Settings) -> None:
    age, freeze = xid["database_age"], xid["freeze_max_age"]
    share = age / WRAPAROUND
    observed = (
        f"{age:,} ({share:.1%} of the wraparound limit; autovacuum_freeze_max_age {freeze:,})"
    )
    if share >= st.upkeep_xid_fail_ratio:
        result.check(
            "transaction ID age",
            False,
            observed=observed,
            expected=f"< {st.upkeep_xid_fail_ratio:.0%} of 2^31",
            detail="VACUUM (FREEZE) the oldest tables now: at 2^31 PostgreSQL stops accepting writes",
        )
        return
    result.check(
        "transaction ID age",
        age < st.upkeep_xid_warn_ratio * freeze,
        observed=observed,
        expected=f"< {st.upkeep_xid_warn_ratio:g} x autovacuum_freeze_max_age",
        warn_only=True,
        detail=None
        if age < st.upkeep_xid_warn_ratio * freeze
        else "autovacuum has not frozen it in time: look for long transactions and vacuum the oldest",
    )


def _table_row(t: dict[str, Any], now: datetime) -> dict[str, Any]:
    last_vacuum = _latest(t["last_vacuum"], t["last_autovacuum"])
    last_analyzed = _latest(t["last_analyze"], t["last_autoanalyze"])
    return {
        "table": t["table"],
        "live": t["live"],
        "dead": t["dead"],
        "dead_ratio": _ratio(t["dead"], t["live"]),
        "last_vacuum": last_vacuum.isoformat() if last_vacuum else None,
        "last_analyzed": last_analyzed.isoformat() if last_analyzed else None,
        "vacuum_age_h": round((now - last_vacuum).total_seconds() / 3600, 1)
        if last_vacuum
        else None,
        "vacuums": t["vacuums"],
        "analyzes": t["analyzes"],
    }


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _ratio(part: int, rest: int) -> float | None:
    return part / (part + rest) if part + rest else None
