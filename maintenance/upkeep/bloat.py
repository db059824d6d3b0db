"""How much of each table and B-tree index is bloat: an estimate from the statistics.

The model is the well-known one of the PostgreSQL community's bloat-estimation queries
(ioguix's pgsql-bloat-estimation, check_postgres): from the planner's statistics
(``reltuples``, and ``pg_stats``' ``avg_width`` and ``null_frac`` per column), how many
pages the live rows would need if packed at the relation's fillfactor, against how many
it has. Nothing is read but the catalog: it costs milliseconds on any size of database
and takes no lock beyond ``AccessShareLock`` on the catalogs.

Two steps, as everywhere in the suite: :func:`read_tables` / :func:`read_indexes` read
the facts (one query each), :func:`estimate_table` / :func:`estimate_index` are pure
arithmetic over them (unit-tested on facts built in memory).

What an estimate can and cannot say:

* it is only as fresh as the last ANALYZE (``db.vacuum_analyze`` runs one first);
* a relation never analyzed, or with columns that have no statistics (an expression
  index, a column of a type without them), is marked ``reliable=False``: its figure is
  reported but never acted on;
* a B-tree that deduplicates (PostgreSQL 13+) can be smaller than the model: its bloat is
  then 0, never negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

PAGE_HEADER = 24  # PageHeaderData
ITEM_ID = 4  # ItemIdData: one line pointer per tuple
HEAP_TUPLE_HEADER = 23  # HeapTupleHeaderData, before its null bitmap
INDEX_TUPLE_HEADER = 8  # IndexTupleData
INDEX_NULL_BITMAP = 4  # IndexAttributeBitMapData
BTREE_OPAQUE = 16  # BTPageOpaqueData at the end of every B-tree page
MAXALIGN = 8  # 64-bit servers


@dataclass(frozen=True)
class RelFacts:
    """What the catalog says of one table or index (the input of the estimate)."""

    schema: str
    table: str
    #: the index's name; None for a table
    index: str | None
    real_bytes: int
    reltuples: float
    block_size: int
    fillfactor: int
    columns: int
    columns_with_stats: int
    #: average width of a row's (or index entry's) data, null fraction applied (bytes)
    data_width: float
    has_nulls: bool
    #: an index column is an expression (no per-column statistics)
    has_expression: bool = False


@dataclass(frozen=True)
class Bloat:
    """The estimate for one relation."""

    schema: str
    table: str
    index: str | None
    real_bytes: int
    expected_bytes: int
    reliable: bool

    @property
    def bloat_bytes(self) -> int:
        return max(0, self.real_bytes - self.expected_bytes)

    @property
    def ratio(self) -> float:
        """Share of the relation that is bloat, 0..1."""
        return self.bloat_bytes / self.real_bytes if self.real_bytes else 0.0

    @property
    def name(self) -> str:
        """``schema.table`` or ``schema.index``."""
        return f"{self.schema}.{self.index or self.table}"

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": self.schema,
            "table": self.table,
            **({"index": self.index} if self.index else {}),
            "real_bytes": self.real_bytes,
            "expected_bytes": self.expected_bytes,
            "bloat_bytes": self.bloat_bytes,
            "bloat_ratio": round(self.ratio, 3),
            "reliable": self.reliable,
        }


def over(estimates: Sequence[Bloat], min_ratio: float, min_bytes: int) -> list[Bloat]:
    """The estimates worth a rebuild, the most bloat first (pure): reliable, at least
    ``min_ratio`` of the relation bloat, and at least ``min_bytes`` of it."""
    chosen = [
        b for b in estimates if b.reliable and b.ratio >= min_ratio and b.bloat_bytes >= min_bytes
    ]
    return sorted(chosen, key=lambda b: (-b.bloat_bytes, b.name))


def _align(n: float) -> int:
    return int(math.ceil(n / MAXALIGN) * MAXALIGN)


def estimate_table(f: RelFacts) -> Bloat:
    """Expected heap size of ``f``'s live rows at its fillfactor (pure)."""
    null_bitmap = math.ceil(f.columns / 8) if f.has_nulls else 0
    tuple_bytes = _align(HEAP_TUPLE_HEADER + null_bitmap) + _align(f.data_width) + ITEM_ID
    return _estimate(f, f.block_size - PAGE_HEADER, tuple_bytes, fixed_pages=0)


def estimate_index(f: RelFacts) -> Bloat:
    """Expected size of a B-tree index ``f`` at its fillfactor: its metapage plus leaf
    pages of entries (header, null bitmap, key data, line pointer); inner pages are a
    rounding error the model leaves out, as the reference queries do (pure)."""
    header = INDEX_TUPLE_HEADER + (INDEX_NULL_BITMAP if f.has_nulls else 0)
    tuple_bytes = _align(header) + _align(f.data_width) + ITEM_ID
    usable = f.block_size - PAGE_HEADER - BTREE_OPAQUE
    return _estimate(f, usable, tuple_bytes, fixed_pages=1)


def _estimate(f: RelFacts, usable: int, tuple_bytes: int, fixed_pages: int) -> Bloat:
    reliable = f.reltuples >= 0 and f.columns_with_stats >= f.columns and not f.has_expression
    per_page = max(1, math.floor(usable * f.fillfactor / 100 / tuple_bytes))
    rows = max(0.0, f.reltuples)
    pages = fixed_pages + math.ceil(rows / per_page)
    if rows == 0:
        pages = max(fixed_pages, 1 if f.real_bytes else 0)
    expected = pages * f.block_size
    return Bloat(f.schema, f.table, f.index, f.real_bytes, expected, reliable)


_TABLES = r"""
SELECT n.nspname, c.relname, pg_relation_size(c.oid), c.reltuples::float8,
       current_setting('block_size')::int,
       coalesce((regexp_match(array_to_string(c.reloptions, ','), 'fillfactor=(\d+)'))[1]::int, 100),
       count(a.attnum)::int, count(s.attname)::int,
       coalesce(sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)), 0)::float8,
       coalesce(bool_or(s.null_frac > 0), false)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_stats s
         ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
        AND NOT s.inherited
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
 GROUP BY c.oid, n.nspname, c.relname, c.reltuples, c.reloptions
 ORDER BY n.nspname, c.relname
"""

_INDEXES = r"""
SELECT n.nspname, t.relname, i.relname, pg_relation_size(i.oid),
       CASE WHEN i.reltuples >= 0 THEN i.reltuples ELSE t.reltuples END::float8,
       current_setting('block_size')::int,
       coalesce((regexp_match(array_to_string(i.reloptions, ','), 'fillfactor=(\d+)'))[1]::int, 90),
       count(*)::int, count(s.attname)::int,
       coalesce(sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)), 0)::float8,
       coalesce(bool_or(s.null_frac > 0), false),
       bool_or(k.attnum = 0)
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = i.relnamespace
  JOIN pg_am am ON am.oid = i.relam AND am.amname = 'btree'
 CROSS JOIN LATERAL unnest(x.indkey::int2[]) AS k(attnum)
  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
  LEFT JOIN pg_stats s
         ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
        AND NOT s.inherited
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
   AND x.indisvalid
 GROUP BY n.nspname, t.relname, i.relname, i.oid, i.reltuples, t.reltuples, i.reloptions
 ORDER BY n.nspname, i.relname
"""


def read_tables(conn: psycopg.Connection) -> list[RelFacts]:
    """The facts of every user table and materialized view of ``conn``'s database."""
    return [RelFacts(r[0], r[1], None, *r[2:10]) for r in conn.execute(_TABLES).fetchall()]


def read_indexes(conn: psycopg.Connection) -> list[RelFacts]:
    """The facts of every valid B-tree index on a user table (INVALID ones are leftovers
    that :mod:`maintenance.upkeep.reindex` drops, never estimates)."""
    return [RelFacts(*r) for r in conn.execute(_INDEXES).fetchall()]


def tables(conn: psycopg.Connection) -> list[Bloat]:
    return [estimate_table(f) for f in read_tables(conn)]


def indexes(conn: psycopg.Connection) -> list[Bloat]:
    return [estimate_index(f) for f in read_indexes(conn)]
