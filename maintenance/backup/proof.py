"""A backup proven by a restore: the RESTORE VERIFICATION CHECKLIST's database part.

The archive is loaded into a scratch database (or, for ``maint restore``, the new
database that will be swapped in) and checked against the backup's manifest: every
table's exact row count and the db.stats counts, the schema objects (indexes,
constraints, sequences, views: :func:`schema_objects`, counted at backup time too),
foreign keys, and the integrity checks (orphans, duplicate assignments, illogical
dates: MAINT_INTEGRITY_CHECKS).

Used by ``backup.verify --level restore`` and ``backup.create`` here, and by
``maint restore`` and ``restore.drill`` (restore builds on backup, never the reverse).
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from maintenance import dbcheck, pg
from maintenance.backup.manifest import Manifest
from maintenance.config import Settings
from maintenance.pgarchive import load
from maintenance.results import Result

_OBJECTS = """
SELECT
  (SELECT count(*) FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.contype IN ('p', 'u', 'f', 'c', 'x')),
  (SELECT count(*) FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT count(*) FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))
  + (SELECT count(*) FROM pg_matviews)
"""


def schema_objects(conn: psycopg.Connection) -> dict[str, int]:
    """Counts of the user schema's indexes, constraints, sequences and views."""
    row = conn.execute(_OBJECTS).fetchone()
    assert row is not None
    return dict(
        zip(("indexes", "constraints", "sequences", "views"), (int(v) for v in row), strict=True)
    )


def _differences(expected: dict[str, int], got: dict[str, int | None]) -> str:
    wrong = {k: (got.get(k), n) for k, n in expected.items() if got.get(k) != n}
    text = f"{len(expected) - len(wrong)} of {len(expected)} match"
    if wrong:
        text += f"; differ (restored, expected): {dict(list(wrong.items())[:10])}"
    return text


def scratch_restore(
    result: Result, settings: Settings, archive: Path, data: Manifest, purpose: str
) -> load.LoadReport | None:
    """Restore ``archive`` into a scratch database ``maint_scratch_<purpose>_<random>``
    (unlogged tables: it is only checked), run :func:`check_restored` on it, drop it.
    Returns the load report, or None if it did not load (a failed check says why)."""
    server = settings.target_dsn.get_secret_value()
    with dbcheck.scratch_database(server, purpose) as scratch:
        dsn = pg.with_dbname(server, scratch)
        try:
            report = load.load(
                archive,
                dsn,
                settings=settings,
                server_major=data.server_major(),
                jobs=settings.restore_jobs,
                scratch=True,
            )
        except load.LoadFailed as exc:
            result.check(
                "restores into a scratch database", False, observed=str(exc), expected="no error"
            )
            return None
        result.check(
            "restores into a scratch database",
            True,
            observed=f"{scratch}: {report.method}, {report.duration_s:.1f}s",
            expected="no error",
        )
        check_restored(result, settings, data, dsn)
    return report


def check_restored(result: Result, settings: Settings, data: Manifest, dsn: str) -> None:
    """Add the restored-database checks to ``result``."""
    with pg.connect(dsn) as conn:
        rows: dict[str, int | None] = dict(dbcheck.exact_counts(conn))
        expected_rows = data.counts.tables
        result.check(
            "all tables recovered with their rows",
            all(rows.get(t) == n for t, n in expected_rows.items()),
            observed=_differences(expected_rows, rows),
            expected=f"the manifest's {len(expected_rows)} tables, row for row",
        )
        expected_objects = data.objects
        if expected_objects:
            got_objects: dict[str, int | None] = dict(schema_objects(conn))
            result.check(
                "schema restored: indexes, constraints, sequences, views",
                all(got_objects.get(k) == n for k, n in expected_objects.items()),
                observed=_differences(expected_objects, got_objects),
                expected=str(expected_objects),
            )
        expected_stats = data.counts.stats
        queries = {
            k: settings.stats_counts[k] for k in expected_stats if k in settings.stats_counts
        }
        got, _errors = dbcheck.named_counts(conn, queries)
        for name, n in expected_stats.items():
            if name in got:
                result.check(
                    f"count {name} equals manifest", got[name] == n, observed=got[name], expected=n
                )
        unvalidated = dbcheck.unvalidated_foreign_keys(conn)
        result.check(
            "foreign keys valid",
            unvalidated == 0,
            observed=f"{unvalidated} not validated",
            expected=0,
        )
        for name, (state, value) in dbcheck.run_integrity(
            conn, dbcheck.integrity_queries(settings)
        ).items():
            if state == "not-applicable":
                result.check(
                    f"integrity {name}",
                    False,
                    observed=value,
                    expected=0,
                    warn_only=True,
                    detail="check does not apply to this schema",
                )
            else:
                result.check(f"integrity {name}", state == "ok", observed=value, expected=0)
