"""Restore's report on what it leaves behind in PostgreSQL: the ``<target>_pre_restore_<time>``
databases ``maint restore`` set aside (:mod:`.swap`), each a whole copy of a database,
which only a person may drop.

The ``backup.retention`` task reports them beside backup retention's checklist, because
the playbook's retention review is where someone looks for old copies. :func:`retention`
is that task: backup retention (:mod:`maintenance.backup.retention`, which knows nothing
of restore) with this report added. It lives here, where restore already builds on
backup, so that the layering runs one way: restore/ imports backup/, never the reverse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from maintenance import clock, pg
from maintenance.backup.retention import task as backup_retention
from maintenance.backup.retention.task import RetentionParams
from maintenance.config import Settings
from maintenance.errors import BadInput, MaintenanceError
from maintenance.restore import swap
from maintenance.results import Check, CheckStatus, Result
from maintenance.taskspec import RunContext


def retention(ctx: RunContext, params: RetentionParams) -> Result:
    """``backup.retention``: backup retention's checklist, then the set-aside databases
    older than MAINT_PRE_RESTORE_REPORT_DAYS, both judged at the same moment."""
    now = clock.now()
    result = backup_retention.run(ctx, params, now=now)
    result.checks.extend(pre_restore_checks(ctx.settings, now))
    return result


def pre_restore_checks(settings: Settings, now: datetime) -> list[Check]:
    """Report (never drop) the ``<target>_pre_restore_<time>`` databases ``maint restore``
    set aside for the configured targets (MAINT_RESTORE_TARGETS) that are older than
    MAINT_PRE_RESTORE_REPORT_DAYS: each holds a whole copy of the database, and only a
    person decides when it may go (`DROP DATABASE name`). Other databases on the same
    server are not ours to report, whatever their names."""
    server = settings.target_dsn.get_secret_value()
    targets = ", ".join(settings.restorable)
    try:
        with pg.connect(pg.with_dbname(server, "postgres")) as conn:
            found = conn.execute(
                "SELECT datname, pg_database_size(datname) FROM pg_database "
                "WHERE strpos(datname, %s) > 0 ORDER BY datname",
                (swap.PRE_RESTORE_MARK,),
            ).fetchall()
    except MaintenanceError as exc:
        return [
            Check(
                "old pre-restore databases",
                CheckStatus.WARN,
                observed=f"could not look: {exc}",
                expected="a list of set-aside databases",
            )
        ]
    limit = timedelta(days=settings.pre_restore_report_days)
    ours: list[tuple[str, int, datetime]] = []
    for name, size in found:
        when = swap.pre_restore_time(name)
        if when is not None and any(_set_aside_for(t, when) == name for t in settings.restorable):
            ours.append((name, int(size), when))
    old = [
        f"{name} ({(now - when).days} days, {size // 1_000_000} MB)"
        for name, size, when in ours
        if now - when > limit
    ]
    return [
        Check(
            "old pre-restore databases",
            CheckStatus.WARN if old else CheckStatus.PASS,
            observed="; ".join(old)
            if old
            else f"{len(ours)} set aside, none older than {limit.days} days",
            expected=f"none of {targets} older than {limit.days} days "
            "(MAINT_PRE_RESTORE_REPORT_DAYS); never dropped automatically",
        )
    ]


def _set_aside_for(target: str, when: datetime) -> str | None:
    """The name ``maint restore`` gives ``target`` set aside at ``when``."""
    try:
        return swap.pre_restore_name(target, when)
    except BadInput:
        return None
