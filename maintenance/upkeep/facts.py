"""What ``db.report`` reads from the target database: one query per subject, each under
the ``read`` kind's timeouts, nothing but the catalog and the statistics views.

Every reader returns plain rows (dicts), the bloat estimates :class:`.bloat.Bloat`
objects; :mod:`.report` judges them. A subject that
cannot be read (``pg_stat_statements`` not loaded, a view the role may not see) is
returned as ``{"unavailable": why}``, never raised: the rest of the report stands.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from maintenance import activity
from maintenance.upkeep import bloat
from maintenance.upkeep.session import UpkeepSession

TOP = 10

_TABLES = """
SELECT schemaname || '.' || relname AS table, n_live_tup AS live, n_dead_tup AS dead,
       last_vacuum, last_autovacuum, last_analyze, last_autoanalyze,
       vacuum_count + autovacuum_count AS vacuums, analyze_count + autoanalyze_count AS analyzes
  FROM pg_stat_user_tables
 ORDER BY n_dead_tup DESC, schemaname, relname
"""

_XID = """
SELECT age(d.datfrozenxid)::bigint AS database_age,
       current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
       (SELECT coalesce(json_agg(t), '[]') FROM (
          SELECT n.nspname || '.' || c.relname AS table, age(c.relfrozenxid)::bigint AS age
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'm', 't') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           ORDER BY age(c.relfrozenxid) DESC LIMIT 5) t) AS oldest
  FROM pg_database d WHERE d.datname = current_database()
"""

_INDEXES = """
SELECT n.nspname || '.' || t.relname AS table, n.nspname || '.' || i.relname AS index,
       pg_relation_size(i.oid) AS bytes, coalesce(s.idx_scan, 0) AS scans,
       x.indisunique AS unique, x.indisprimary AS primary, x.indisvalid AS valid,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid) AS constraint,
       x.indkey::text || ' ' || x.indclass::text || ' ' || x.indcollation::text
         || ' ' || coalesce(pg_get_expr(x.indexprs, x.indrelid), '')
         || ' ' || coalesce(pg_get_expr(x.indpred, x.indrelid), '') || ' ' || am.amname AS signature,
       pg_get_indexdef(i.oid) AS definition
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = i.relnamespace
  JOIN pg_am am ON am.oid = i.relam
  LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.oid
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
 ORDER BY n.nspname, t.relname, i.relname
"""

_DATABASE = """
SELECT blks_hit AS hit, blks_read AS read, stats_reset, xact_commit, xact_rollback, deadlocks,
       temp_bytes, pg_database_size(current_database()) AS size_bytes
  FROM pg_stat_database WHERE datname = current_database()
"""

_CONNECTIONS = """
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS total,
       (SELECT coalesce(json_object_agg(state, n), '{}') FROM (
          SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity
           WHERE backend_type = 'client backend' GROUP BY 1) s) AS by_state
"""

_STATEMENTS = """
SELECT query, calls, round(total_exec_time::numeric, 1)::float8 AS total_ms,
       round(mean_exec_time::numeric, 2)::float8 AS mean_ms, rows
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY {order} DESC LIMIT %s
"""


def _dicts(
    s: UpkeepSession, query: str, params: tuple[Any, ...] | None = None
) -> list[dict[str, Any]]:
    s.using("read")
    with s.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def read(s: UpkeepSession) -> dict[str, Any]:
    """Every subject of the report: plain rows, and the bloat estimates."""
    conn = s.using("read")
    return {
        "tables": _dicts(s, _TABLES),
        "table_bloat": bloat.tables(conn),
        "index_bloat": bloat.indexes(conn),
        "xid": _dicts(s, _XID)[0],
        "indexes": _dicts(s, _INDEXES),
        "database": _dicts(s, _DATABASE)[0],
        "connections": _dicts(s, _CONNECTIONS)[0],
        "statements": statements(s),
    }


def statements(s: UpkeepSession) -> dict[str, Any]:
    """The slowest and the most frequent statements, or why they cannot be read."""
    if not s.rows("read", "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"):
        return {"unavailable": "the pg_stat_statements extension is not installed in this database"}
    try:
        slowest = _dicts(s, _STATEMENTS.format(order="mean_exec_time"), (TOP,))
        frequent = _dicts(s, _STATEMENTS.format(order="calls"), (TOP,))
    except psycopg.Error as exc:  # not in shared_preload_libraries, or not allowed
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"unavailable": text}
    for row in slowest + frequent:
        row["query"] = activity.mask_query(row["query"] or "")
    return {"slowest": slowest, "most_frequent": frequent}
