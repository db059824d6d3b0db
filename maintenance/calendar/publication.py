"""The thin reader of the last schedule publication (the blackout's fourth rule).

Runs ``MAINT_CALENDAR_PUBLICATION_QUERY`` (default ``SELECT max(published_at) FROM
schedules``) on the target database in a read-only transaction with a statement
timeout. A missing table, a bad query, an unreachable database: "publication unknown"
with the reason, never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from maintenance import pg, redact
from maintenance.calendar.blackout import Publication
from maintenance.config import Settings
from maintenance.errors import MaintenanceError


def read(settings: Settings) -> Publication:
    timeout = settings.calendar_publication_timeout_s
    try:
        with pg.connect(
            settings.target_dsn.get_secret_value(),
            autocommit=False,
            timeout=timeout,
            application_name="maint-calendar",
        ) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(
                "SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout * 1000)}ms",)
            )
            row = conn.execute(settings.calendar_publication_query.encode()).fetchone()
            conn.rollback()
    except (psycopg.Error, MaintenanceError, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Publication(unknown=redact.scrub(text))
    value = row[0] if row else None
    if value is None:
        return Publication()
    if not isinstance(value, datetime):
        return Publication(unknown=f"the query returned {type(value).__name__}, not a timestamp")
    if value.tzinfo is None:  # timestamp without time zone: taken as UTC
        value = value.replace(tzinfo=UTC)
    return Publication(at=value)
