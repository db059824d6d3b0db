"""The suite's Prometheus metrics (docs/metrics.md), read from the job-history database
at scrape time: any host that reaches the history can serve them, and a scrape shows
what the history says now, not what one process happened to see.

:class:`HistoryCollector` is a custom collector: each scrape reads the facts of
:func:`maintenance.oncall.facts.read_metrics` (every query under a statement timeout,
``MAINT_METRICS_SCRAPE_TIMEOUT_S``) and turns them into metric families (pure:
:func:`families`). A history that does not answer gives ``maint_history_up 0`` and
nothing else, never an error page. Labels are task names, tiers, components, alert keys
and the roots' paths: no parameter, error text, DSN or other secret is ever exported.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from maintenance import clock
from maintenance.config import Settings
from maintenance.errors import MaintenanceError
from maintenance.logs_setup import get_logger
from maintenance.oncall import facts
from maintenance.oncall.model import Snapshot
from maintenance.results import RunStatus

log = get_logger("maint.metrics")

#: ``maint_health_component_status`` values.
HEALTH_VALUE = {"pass": 0, "warn": 1, "fail": 2}
TIERS = ("daily", "weekly", "monthly")


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def families(snap: Snapshot, settings: Settings) -> Iterator[Metric]:
    """The metric families of one snapshot (pure)."""
    now = snap.now

    # --- tasks ------------------------------------------------------------------------
    success_at = GaugeMetricFamily(
        "maint_task_last_success_timestamp_seconds",
        "When the task's last successful top-level run finished (Unix time).",
        labels=["task"],
    )
    success_s = GaugeMetricFamily(
        "maint_task_last_success_duration_seconds",
        "How long the task's last successful run took.",
        labels=["task"],
    )
    last_s = GaugeMetricFamily(
        "maint_task_last_duration_seconds",
        "How long the task's last finished run took, whatever its status.",
        labels=["task"],
    )
    runs = CounterMetricFamily(
        "maint_task_runs",
        "Finished top-level runs in the job history by status (refused input not counted).",
        labels=["task", "status"],
    )
    running = GaugeMetricFamily(
        "maint_task_running", "Runs of the task running now.", labels=["task"]
    )
    streak = GaugeMetricFamily(
        "maint_task_consecutive_failures",
        "Failed, lost or missed runs since the task's last successful (or skipped) run.",
        labels=["task"],
    )
    for name, t in sorted(snap.tasks.items()):
        if t.last_success_at is not None:
            success_at.add_metric([name], _ts(t.last_success_at))
        if t.last_success_duration_s is not None:
            success_s.add_metric([name], t.last_success_duration_s)
        if t.last_duration_s is not None:
            last_s.add_metric([name], t.last_duration_s)
        for status in RunStatus:
            if status is RunStatus.RUNNING:
                continue
            runs.add_metric([name, status.value], t.runs.get(status.value, 0))
        running.add_metric([name], t.runs.get(RunStatus.RUNNING.value, 0))
        streak.add_metric([name], t.failures_in_a_row)
    yield from (success_at, success_s, last_s, runs, running, streak)

    # --- backups ----------------------------------------------------------------------
    created = GaugeMetricFamily(
        "maint_backup_newest_verified_timestamp_seconds",
        "When the newest verified backup of the tier was taken (Unix time, from its id).",
        labels=["tier"],
    )
    age = GaugeMetricFamily(
        "maint_backup_newest_verified_age_seconds",
        "Age of the newest verified backup of the tier at scrape time.",
        labels=["tier"],
    )
    size = GaugeMetricFamily(
        "maint_backup_newest_verified_size_bytes",
        "Size of the newest verified backup of the tier.",
        labels=["tier"],
    )
    limit = GaugeMetricFamily(
        "maint_backup_max_age_seconds",
        "MAINT_STATUS_BACKUP_MAX_AGE_H of the tier, in seconds (what maint status judges by).",
        labels=["tier"],
    )
    for tier in TIERS:
        limit.add_metric([tier], settings.status_backup_max_age_h[tier] * 3600)
        b = snap.backups.get(tier)
        if b is None:
            continue
        created.add_metric([tier], _ts(b.created_at))
        age.add_metric([tier], (now - b.created_at).total_seconds())
        if b.size_bytes is not None:
            size.add_metric([tier], b.size_bytes)
    yield from (created, age, size, limit)

    # --- the last drill -----------------------------------------------------------------
    d = snap.drill
    drill_at = GaugeMetricFamily(
        "maint_drill_last_timestamp_seconds", "When the last restore.drill finished (Unix time)."
    )
    drill_ok = GaugeMetricFamily(
        "maint_drill_last_success", "1 if the last restore.drill succeeded, 0 if not."
    )
    rto = GaugeMetricFamily("maint_drill_last_rto_seconds", "The last drill's recovery time.")
    rpo = GaugeMetricFamily("maint_drill_last_rpo_seconds", "The last drill's recovery point.")
    rto_goal = GaugeMetricFamily(
        "maint_drill_rto_objective_seconds",
        "The RTO objective the last drill was held to (else MAINT_RESTORE_RTO_OBJECTIVE_S).",
    )
    rpo_goal = GaugeMetricFamily(
        "maint_drill_rpo_objective_seconds",
        "The RPO objective the last drill was held to (else MAINT_RESTORE_RPO_OBJECTIVE_S).",
    )
    rto_goal.add_metric(
        [], d.rto_objective_s if d and d.rto_objective_s else settings.restore_rto_objective_s
    )
    rpo_goal.add_metric(
        [], d.rpo_objective_s if d and d.rpo_objective_s else settings.restore_rpo_objective_s
    )
    if d is not None:
        drill_at.add_metric([], _ts(d.at))
        drill_ok.add_metric([], 1 if d.status == RunStatus.SUCCEEDED.value else 0)
        if d.rto_s is not None:
            rto.add_metric([], d.rto_s)
        if d.rpo_s is not None:
            rpo.add_metric([], d.rpo_s)
    yield from (drill_at, drill_ok, rto, rpo, rto_goal, rpo_goal)

    # --- health, cache, disks, alerts -----------------------------------------------------
    h = snap.health
    component = GaugeMetricFamily(
        "maint_health_component_status",
        "Worst status of the component's checks in the newest health sample: "
        "0 pass, 1 warn, 2 fail.",
        labels=["component"],
    )
    overall = GaugeMetricFamily(
        "maint_health_status", "The newest health sample's overall status: 0 pass, 1 warn, 2 fail."
    )
    sample_at = GaugeMetricFamily(
        "maint_health_sample_timestamp_seconds", "When the newest health sample was taken."
    )
    hit = GaugeMetricFamily(
        "maint_cache_hit_ratio",
        "The application cache's hit ratio since the previous health sample (0 to 1).",
    )
    free = GaugeMetricFamily(
        "maint_disk_free_bytes",
        "Free bytes on the file system of the backup or log root (newest health sample).",
        labels=["label", "root"],
    )
    used = GaugeMetricFamily(
        "maint_disk_used_ratio",
        "Share used of the file system of the backup or log root (0 to 1).",
        labels=["label", "root"],
    )
    if h is not None:
        for name, word in h.components.items():
            component.add_metric([name], HEALTH_VALUE.get(word, 2))
        overall.add_metric([], HEALTH_VALUE.get(h.status, 2))
        sample_at.add_metric([], _ts(h.taken_at))
        if h.cache_hit_ratio is not None:
            hit.add_metric([], h.cache_hit_ratio)
        for disk in h.disks:
            if disk.free_bytes is not None:
                free.add_metric([disk.label, disk.root], disk.free_bytes)
            if disk.used_ratio is not None:
                used.add_metric([disk.label, disk.root], disk.used_ratio)
    alerts = GaugeMetricFamily(
        "maint_alert_open",
        "1 for each alert whose last notice was not a recovery (status: warn or fail), "
        "or that a window holds.",
        labels=["key", "status"],
    )
    for a in snap.alerts:
        alerts.add_metric([a.key, a.status], 1)
    yield from (component, overall, sample_at, hit, free, used, alerts)


class HistoryCollector(Collector):
    """Reads the history at each scrape (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        t0 = clock.monotonic()
        up = GaugeMetricFamily(
            "maint_history_up", "1 if the job-history database answered this scrape."
        )
        took = GaugeMetricFamily(
            "maint_scrape_duration_seconds", "How long reading the history took."
        )
        try:
            snap = facts.read_metrics(self.settings)
        except MaintenanceError as exc:  # our errors: unavailable, schema, timeout
            log.warning("metrics.history_unreadable", error=str(exc))
            up.add_metric([], 0)
            took.add_metric([], clock.monotonic() - t0)
            yield from (up, took)
            return
        found = list(families(snap, self.settings))
        up.add_metric([], 1)
        took.add_metric([], clock.monotonic() - t0)
        yield from (up, took, *found)


def registry(settings: Settings) -> CollectorRegistry:
    """A registry with the history collector only (no process metrics: the numbers are
    the history's, whichever process serves them)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(HistoryCollector(settings))
    return reg
