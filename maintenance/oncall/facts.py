"""What ``maint status`` and ``maint metrics`` read, and the thin functions that read it.

Everything comes from the job-history database (so any host that reaches it can answer):
the runs, the newest verified backup of each tier (from the runs of ``backup.create`` and
``backup.verify``, read as the manifests read them), the last drill (``restore.drill``'s figures), the open alerts, the
newest health sample (components, the cache's hit ratio, the disks of the backup and log
roots as the worker measured them). The next window is not read here: ``maint status``
asks ``maint schedule``'s own functions for it (:class:`.model.NextWindow` is its shape).

Every query runs with a statement timeout (``MAINT_METRICS_SCRAPE_TIMEOUT_S``): a scrape
or a status is bounded whatever the database does. The values are :mod:`.model`;
judging is :mod:`.judge` (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import select, text

from maintenance import clock
from maintenance.alerts import store as alert_store
from maintenance.backup import layout
from maintenance.config import Settings
from maintenance.errors import BadInput
from maintenance.health import document as health_document
from maintenance.health import samples
from maintenance.history import lost, store
from maintenance.history.models import JobRun, WindowRun
from maintenance.oncall.model import (
    PROBLEMS,
    Alert,
    Disk,
    Drill,
    Health,
    Snapshot,
    TaskFigures,
    VerifiedBackup,
)
from maintenance.results import RunStatus, Trigger

#: How far back the runs that prove a backup are read: the monthly tier's age limit
#: with room to spare. Older proofs do not make a backup "newest verified".
BACKUP_LOOKBACK = timedelta(days=120)
#: At most this many backup runs are read (a month of daily and window runs is ~100).
BACKUP_ROWS = 2000
#: Runs read per task to count failures in a row.
STREAK_ROWS = 20

def bounded_dsn(dsn: str, timeout_s: float) -> str:
    """``dsn`` with a server-side ``statement_timeout`` for every statement of its
    sessions (libpq's ``options``), kept beside any options it already has."""
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    limit = f"-c statement_timeout={max(1, int(timeout_s * 1000))}"
    query["options"] = f"{query['options']} {limit}" if query.get("options") else limit
    # %20, not +: libpq decodes only percent escapes in a URI
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


# --- readers --------------------------------------------------------------------------------


def _session(dsn: str) -> Any:
    return store.reading(dsn)


_TASKS = """
SELECT task, status, count(*) AS runs
  FROM job_runs
 WHERE parent_run_id IS NULL
   AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(:rejected)
            AND trigger = ANY(:people))
 GROUP BY task, status
"""
_LAST = """
SELECT DISTINCT ON (task) task, finished_at, duration_s
  FROM job_runs
 WHERE parent_run_id IS NULL AND status = 'succeeded'
 ORDER BY task, id DESC
"""
_RECENT = """
SELECT task, status, duration_s FROM (
  SELECT task, status, duration_s,
         row_number() OVER (PARTITION BY task ORDER BY id DESC) AS n
    FROM job_runs
   WHERE parent_run_id IS NULL AND status <> 'running'
     AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(:rejected)
              AND trigger = ANY(:people))
) r WHERE n <= :rows ORDER BY task, n
"""


def _refused() -> dict[str, Any]:
    return {
        "rejected": list(store.REJECTED_INPUT),
        "people": [Trigger.CLI.value, Trigger.ADHOC.value],
    }


def read_tasks(dsn: str) -> dict[str, TaskFigures]:
    """Per task: runs by status, the last success and its duration, the last run's
    duration, and how many failed, lost or missed runs came since its last good one."""
    with _session(dsn) as s:
        counts = s.execute(text(_TASKS), _refused()).all()
        last = {r.task: r for r in s.execute(text(_LAST)).all()}
        recent = s.execute(text(_RECENT), _refused() | {"rows": STREAK_ROWS}).all()
    by_task: dict[str, dict[str, int]] = {}
    for row in counts:
        by_task.setdefault(row.task, {})[row.status] = int(row.runs)
    streaks: dict[str, int] = {}
    last_duration: dict[str, float | None] = {}
    done: set[str] = set()
    for row in recent:  # newest first per task
        if row.task not in last_duration:
            last_duration[row.task] = row.duration_s
        if row.task in done:
            continue
        if row.status in PROBLEMS:
            streaks[row.task] = streaks.get(row.task, 0) + 1
        else:
            done.add(row.task)
    return {
        task: TaskFigures(
            task=task,
            runs=runs,
            last_success_at=last[task].finished_at if task in last else None,
            last_success_duration_s=last[task].duration_s if task in last else None,
            last_duration_s=last_duration.get(task),
            failures_in_a_row=streaks.get(task, 0),
        )
        for task, runs in sorted(by_task.items())
    }


_BACKUP_RUNS = """
SELECT id, task, status, finished_at, result -> 'figures' AS figures, params
  FROM job_runs
 WHERE task IN ('backup.create', 'backup.verify')
   AND parent_run_id IS NULL AND status IN ('succeeded', 'failed')
   AND started_at >= :since
 ORDER BY id DESC
 LIMIT :rows
"""
#: Tiers backup.create has really run for (a typo refused at the door is not a run).
_TIERS_RUN = """
SELECT DISTINCT params ->> 'tier' FROM job_runs
 WHERE task = 'backup.create' AND parent_run_id IS NULL
   AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(:rejected)
            AND trigger = ANY(:people))
"""
#: Levels that make a backup "verified" (as ``maint backups list`` counts it).
PROVING = ("full", "restore")


def newest_verified(rows: Sequence[Any]) -> dict[str, VerifiedBackup]:
    """Per tier, the newest backup whose latest verification in ``rows`` (newest first:
    id, task, status, finished_at, figures) passed at level full or restore (pure).

    backup.create's figures name the backup and, under ``verification``, its level;
    backup.verify's name both. A run that failed its verification of a backup un-proves
    it until a later one passes, as the manifest's ``proven_level`` does (a drill is not
    a verification there, nor here: a drill that missed its RTO says nothing of the file).
    """
    judged: set[str] = set()
    best: dict[str, VerifiedBackup] = {}
    sizes: dict[str, int] = {}
    for row in rows:
        figures = row.figures if isinstance(row.figures, dict) else {}
        backup = figures.get("backup")
        if not isinstance(backup, str):
            continue
        if row.task == "backup.create" and isinstance(figures.get("size_bytes"), int):
            sizes.setdefault(backup, figures["size_bytes"])
        if backup in judged:
            continue
        if row.task == "backup.create":
            verification = figures.get("verification")
            level = verification.get("level") if isinstance(verification, dict) else None
        else:
            level = figures.get("level")
        if level is None:
            continue  # created without a verification: proves nothing, fails nothing
        passed = row.status == RunStatus.SUCCEEDED.value
        if passed and level not in PROVING:
            continue  # a checksum pass neither proves a backup nor un-proves it
        judged.add(backup)
        if not passed:
            continue  # its latest verdict failed: not verified (until a later pass)
        try:
            tier, created = layout.parse_id(backup)
        except BadInput:
            continue
        current = best.get(tier.value)
        if current is None or created > current.created_at:
            best[tier.value] = VerifiedBackup(
                backup, tier.value, created, str(level), row.finished_at, int(row.id)
            )
    return {
        t: VerifiedBackup(**{**b.__dict__, "size_bytes": sizes.get(b.id)}) for t, b in best.items()
    }


def read_backups(dsn: str, now: datetime) -> tuple[dict[str, VerifiedBackup], set[str]]:
    """The newest verified backup of each tier (:func:`newest_verified`), and the tiers
    backup.create has run for."""
    with _session(dsn) as s:
        rows = s.execute(
            text(_BACKUP_RUNS), {"since": now - BACKUP_LOOKBACK, "rows": BACKUP_ROWS}
        ).all()
        tiers = s.execute(text(_TIERS_RUN), _refused()).all()
    return newest_verified(rows), {t[0] or "daily" for t in tiers}


_DRILL = """
SELECT id, status, started_at, finished_at, result -> 'figures' AS figures, summary,
       error_type, error_message
  FROM job_runs
 WHERE task = 'restore.drill' AND parent_run_id IS NULL AND status <> 'running'
   AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(:rejected)
            AND trigger = ANY(:people))
 ORDER BY id DESC LIMIT 1
"""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_drill(dsn: str) -> Drill | None:
    with _session(dsn) as s:
        row = s.execute(text(_DRILL), _refused()).first()
    if row is None:
        return None
    figures = row.figures if isinstance(row.figures, dict) else {}
    error = f"{row.error_type}: {row.error_message or ''}" if row.error_type else None
    return Drill(
        run_id=int(row.id),
        status=row.status,
        at=row.finished_at or row.started_at,
        backup=figures.get("backup") if isinstance(figures.get("backup"), str) else None,
        rto_s=_number(figures.get("rto_s")),
        rpo_s=_number(figures.get("rpo_s")),
        rto_objective_s=_number(figures.get("rto_objective_s")),
        rpo_objective_s=_number(figures.get("rpo_objective_s")),
        summary=row.summary,
        error=error,
    )


_RECENT_PROBLEMS = """
SELECT id FROM job_runs
 WHERE parent_run_id IS NULL AND status = ANY(:problems)
   AND coalesce(finished_at, started_at) >= :since
   AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(:rejected)
            AND trigger = ANY(:people))
 ORDER BY id DESC LIMIT 50
"""


def read_recent_problems(dsn: str, now: datetime) -> list[JobRun]:
    """Top-level runs failed, lost or missed in the 24 hours before ``now``, newest first
    (at most 50)."""
    with _session(dsn) as s:
        ids = s.execute(
            text(_RECENT_PROBLEMS),
            _refused() | {"problems": list(PROBLEMS), "since": now - timedelta(hours=24)},
        ).scalars()
        wanted = list(ids)
        if not wanted:
            return []
        rows = {r.id: r for r in s.query(JobRun).filter(JobRun.id.in_(wanted))}
    return [rows[i] for i in wanted if i in rows]


def read_windows_running(dsn: str) -> list[WindowRun]:
    """Window runs still open (``window.run`` is running them)."""
    stmt = (
        select(WindowRun)
        .where(WindowRun.status == RunStatus.RUNNING.value)
        .order_by(WindowRun.started_at)
    )
    with _session(dsn) as s:
        return list(s.scalars(stmt))


def read_alerts(dsn: str) -> list[Alert]:
    """The open alerts (:func:`maintenance.alerts.store.open_alerts`)."""
    out = []
    for a in alert_store.open_alerts(dsn):
        detail = a.detail if isinstance(a.detail, dict) else {}
        out.append(
            Alert(
                key=a.key,
                status=a.notified_status,
                opened_at=a.opened_at,
                notified_at=a.notified_at,
                held_since=a.held_since,
                output=str(detail.get("output") or detail.get("reason") or ""),
            )
        )
    return out


def health_of(sample: samples.Stored) -> Health:
    """The on-call facts of one stored health document (pure)."""
    doc = sample.document
    components = health_document.component_status(doc)
    outputs: dict[str, str] = {}
    ratio: float | None = None
    disks: dict[str, dict[str, Any]] = {}
    for key, item in health_document.entries_of(doc):
        component, _, measurement = key.partition(":")
        if item.get("status") != "pass" and component not in outputs and item.get("output"):
            outputs[component] = str(item["output"])
        value = item.get("observedValue")
        if key == "cache:hitRate" and isinstance(value, int | float):
            ratio = value / 100 if item.get("observedUnit") == "%" or value > 1 else float(value)
        if key in ("host:diskFree", "host:diskUtilization"):
            ident = str(item.get("componentId") or "")
            label, _, root = ident.partition(" ")
            disk = disks.setdefault(ident, {"label": label, "root": root, "status": "pass"})
            if isinstance(value, int | float):
                if measurement == "diskFree":
                    disk["free"] = int(value)
                else:
                    disk["used"] = value / 100 if item.get("observedUnit") == "%" else value
            disk["status"] = health_document.worst([disk["status"], str(item.get("status"))]).value
    return Health(
        sample_id=sample.id,
        taken_at=sample.taken_at,
        status=sample.status,
        components=components,
        outputs=outputs,
        cache_hit_ratio=ratio,
        disks=[
            Disk(d["label"], d["root"], d.get("free"), d.get("used"), d["status"])
            for d in disks.values()
        ],
    )


def read_history_since(dsn: str) -> datetime | None:
    """When the oldest run in the history started."""
    with _session(dsn) as s:
        return s.execute(text("SELECT min(started_at) FROM job_runs")).scalar()


def read_health(dsn: str) -> Health | None:
    newest = samples.latest(dsn, limit=1)
    return health_of(newest[0]) if newest else None


def read(settings: Settings, *, now: datetime | None = None) -> Snapshot:
    """Every fact of the on-call screen but the next window (the CLI computes it as
    ``maint schedule`` does). Runs whose worker died are settled first (as ``maint
    history`` does), so a dead run never shows as running."""
    raw = settings.history_dsn.get_secret_value()
    lost.reap(raw, lost_after_s=settings.lost_after_s)
    dsn = bounded_dsn(raw, settings.metrics_scrape_timeout_s)
    moment = now or clock.now()
    rows = store.latest_per_task(dsn)
    snap = read_metrics(settings, dsn=dsn, now=moment)
    snap.latest = [r for r in rows if not store.is_rejected_input(r)]
    snap.rejected = [r for r in rows if store.is_rejected_input(r)]
    snap.running = store.running(dsn)
    snap.windows_running = read_windows_running(dsn)
    snap.recent_problems = read_recent_problems(dsn, moment)
    return snap


def read_metrics(
    settings: Settings, *, dsn: str | None = None, now: datetime | None = None
) -> Snapshot:
    """What a scrape exports: task figures, backups, the drill, alerts, health. No reap
    (a scrape writes nothing) and no calendar."""
    dsn = dsn or bounded_dsn(
        settings.history_dsn.get_secret_value(), settings.metrics_scrape_timeout_s
    )
    moment = now or clock.now()
    backups, tiers = read_backups(dsn, moment)
    return Snapshot(
        now=moment,
        tasks=read_tasks(dsn),
        backups=backups,
        backup_tiers_run=tiers,
        drill=read_drill(dsn),
        alerts=read_alerts(dsn),
        health=read_health(dsn),
        history_since=read_history_since(dsn),
    )
