"""``health.check`` (every 5 minutes) and ``maint health``: probe every component at once,
judge what came back, and (the task) store the sample and ping the dead man's switch.

:func:`take` is the read-only part both share: the probes in daemon threads
(:mod:`.parallel`), bounded by ``MAINT_HEALTH_TIMEOUT_S`` whatever hangs; the document by
:func:`maintenance.health.assess.assess` (pure). It reads the previous stored sample (the
cache's counters, for the hit ratio since then) and writes nothing.

:func:`check` is the task: :func:`take`, then store the sample, decide and send the
alerts (:mod:`maintenance.alerts`: a confirmed change of a component, each failed or lost
run once; docs/alerts.md), prune old samples, and make the run's checklist mirror the
document (:func:`to_result`): the run fails only when the overall status is critical;
degraded is warnings.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from maintenance import __version__, clock
from maintenance.alerts import evaluate as alert_evaluate
from maintenance.cache.client import endpoint as cache_endpoint
from maintenance.config import Settings
from maintenance.errors import MaintenanceError
from maintenance.health import deadman, facts, parallel, samples
from maintenance.health.assess import HealthPolicy, Ids, assess
from maintenance.health.document import Status, component_status, entries_of
from maintenance.logs import hosts as log_hosts
from maintenance.results import Check, CheckStatus, Result
from maintenance.taskspec import NoParams, RunContext


def queues(settings: Settings) -> list[str]:
    """The broker queues whose lengths are measured: the suite's and each log host's."""
    return [settings.queue, *(log_hosts.queue(h) for h in settings.managed_log_hosts)]


def ids(settings: Settings) -> Ids:
    return Ids(
        api=settings.api_url,
        database=facts.server_name(settings.target_dsn.get_secret_value()),
        cache=str(cache_endpoint(settings.cache_url.get_secret_value())),
        broker=str(cache_endpoint(settings.broker_url.get_secret_value())),
        host=socket.gethostname(),
    )


def probes(settings: Settings, now: datetime) -> list[parallel.Probe]:
    """Every probe of one check, each with its component's time limit."""
    s = settings
    limit = s.health_probe_timeout
    api = s.api_url.rstrip("/")
    target = s.target_dsn.get_secret_value()
    cache = s.cache_url.get_secret_value()
    broker = s.broker_url.get_secret_value()
    history = s.history_dsn.get_secret_value()
    roots = {"backups": s.backup_root, "logs": s.log_root}
    table: list[tuple[str, str, Callable[[float], Any]]] = [
        ("api", "api", lambda t: facts.read_http(api + s.health_api_path, t)),
        ("api_extended", "api", lambda t: facts.read_http(api + s.health_api_extended_path, t)),
        ("database", "database", lambda t: facts.read_database(target, t)),
        ("cache", "cache", lambda t: facts.read_cache(cache, t)),
        ("workers", "celery", lambda t: facts.read_workers(s.health_worker_ping_s)),
        ("queues", "celery", lambda t: facts.read_queues(broker, queues(s), t)),
        ("history", "celery", lambda t: facts.read_history(history, now, t)),
        ("backups", "celery", lambda t: facts.read_backups(s.backup_root)),
        ("host", "host", lambda t: facts.read_host(roots)),
        ("folders", "host", lambda t: facts.read_folders(roots)),
    ]
    return [
        parallel.Probe(name, component, _bind(read, limit(component)), limit(component))
        for name, component, read in table
    ]


def _bind(read: Callable[[float], Any], timeout_s: float) -> Callable[[], Any]:
    return lambda: read(timeout_s)


@dataclass(frozen=True)
class Taken:
    """One check's document, when it was taken and how long it took."""

    document: dict[str, Any]
    taken_at: datetime
    duration_ms: float
    outcomes: dict[str, parallel.Outcome]

    @property
    def status(self) -> Status:
        return Status(self.document["status"])


def take(settings: Settings) -> Taken:
    """Probe everything now and judge it (read-only; see the module text)."""
    now = clock.now()
    t0 = clock.monotonic()
    outcomes = parallel.run(probes(settings, now), settings.health_timeout_s)
    duration_ms = (clock.monotonic() - t0) * 1000
    doc = assess(outcomes, HealthPolicy.of(settings), now, ids=ids(settings), release=__version__)
    return Taken(doc, now, round(duration_ms, 1), outcomes)


# --- the run's checklist -----------------------------------------------------------------

_EXPECTED: dict[str, Callable[[HealthPolicy], str]] = {
    "api:status": lambda p: "HTTP 200, status healthy",
    "api:responseTime": lambda p: f"<= {p.response_ms:g} ms",
    "api:errorRate": lambda p: f"< {p.error_rate_max * 100:g}%",
    "api:cacheHitRate": lambda p: f">= {p.cache_hit_min * 100:g}%",
    "api:databaseQueryTime": lambda p: f"<= {p.query_ms:g} ms",
    "database:queryTime": lambda p: f"<= {p.query_ms:g} ms",
    "database:connections": lambda p: f"< {p.db_connections_max * 100:g}% of max_connections",
    "database:cacheHitRate": lambda p: f">= {p.db_cache_hit_min * 100:g}%",
    "cache:memoryUtilization": lambda p: f"<= {p.memory_max * 100:g}%",
    "cache:hitRate": lambda p: f">= {p.cache_hit_min * 100:g}%",
    "cache:evictions": lambda p: "0",
    "celery:workers": lambda p: f">= {p.min_workers}",
    "celery:queueLength": lambda p: f"<= {p.queue_max}",
    "celery:failedRuns": lambda p: f"<= {p.failed_runs_max} in 24 h",
    "celery:lastVerifiedBackup": lambda p: f"<= {p.backup_warn_hours:g} h",
    "host:diskUtilization": lambda p: f"< {p.disk_warn * 100:g}%",
    "host:diskFree": lambda p: f">= {p.disk_min_free_bytes:,} bytes",
    "host:memoryUtilization": lambda p: f"<= {p.memory_max * 100:g}%",
    "host:loadAverage": lambda p: f"<= {p.load_per_core_max:g} per core",
}


def _observed(item: dict[str, Any]) -> Any:
    value = item.get("observedValue")
    unit = item.get("observedUnit")
    if value is None:
        return "-"
    return f"{value} {unit}" if unit else value


def to_result(document: dict[str, Any], policy: HealthPolicy) -> Result:
    """The run's checklist: the overall status, then one line per check of the document.
    A failed check of a component that is not critical is a warning here (the overall
    status is degraded, and the run is not failed by it)."""
    overall = Status(document["status"])
    result = Result()
    result.checks.append(
        Check(
            "overall status",
            CheckStatus(overall.value),
            observed=overall.overall_word,
            expected="healthy",
            detail=document.get("output"),
        )
    )
    items = entries_of(document)
    counts: dict[str, int] = {}
    for key, _ in items:
        counts[key] = counts.get(key, 0) + 1
    for key, item in items:
        status = Status(item["status"])
        detail = item.get("output")
        check_status = CheckStatus(status.value)
        if status is Status.FAIL and overall is not Status.FAIL:
            check_status = CheckStatus.WARN
            detail = f"{detail or 'failed'} ({key.split(':')[0]} is not a critical component)"
        cid = item.get("componentId")
        name = f"{key} ({cid})" if cid and counts[key] > 1 else key
        expected = _EXPECTED.get(key)
        result.checks.append(
            Check(
                name, check_status, _observed(item), expected(policy) if expected else None, detail
            )
        )
    return result


def summary(taken: Taken) -> str:
    doc = taken.document
    parts = ", ".join(f"{c} {s}" for c, s in component_status(doc).items())
    head = f"{taken.status.overall_word} ({parts}) in {taken.duration_ms / 1000:.2f} s"
    return f"{head}: {doc['output']}" if doc.get("output") else head


# --- the task ------------------------------------------------------------------------------


def check(ctx: RunContext, params: NoParams) -> Result:
    """health.check: probe, store the sample, prune, checklist; the dead man's switch
    around it all (a failed ping never changes the outcome; a crash pings fail and is
    raised as it was)."""
    s = ctx.settings
    pings = [deadman.ping(s, deadman.Signal.START)]
    try:
        result, taken = _check(ctx)
    except BaseException as exc:
        deadman.ping(s, deadman.Signal.FAIL, f"health.check crashed: {parallel.describe(exc)}")
        raise
    critical = taken.status is Status.FAIL
    signal = deadman.Signal.FAIL if critical else deadman.Signal.SUCCESS
    pings.append(deadman.ping(s, signal, result.summary))
    sent = [str(p) for p in pings if p is not None]
    if sent:
        result.figures["deadman"] = sent
    return result


def _check(ctx: RunContext) -> tuple[Result, Taken]:
    s = ctx.settings
    dsn = s.history_dsn.get_secret_value()
    taken = take(s)
    sample_id = samples.save(
        dsn,
        taken.document,
        taken_at=taken.taken_at,
        duration_ms=taken.duration_ms,
        run_id=ctx.run_id,
    )
    alert_checks, alert_figures = _alerts(s, taken.taken_at)
    pruned = samples.prune(dsn, now=taken.taken_at, keep_days=s.health_sample_retention_days)
    result = to_result(taken.document, HealthPolicy.of(s))
    result.summary = summary(taken)
    result.figures = {
        "status": taken.status.overall_word,
        "components": component_status(taken.document),
        "sample_id": sample_id,
        "duration_ms": taken.duration_ms,
        "samples_pruned": pruned,
        "alerts": alert_figures,
    }
    result.checks.extend(alert_checks)
    return result, taken


#: How far back the samples an alert is decided on go, beyond the wait (seconds).
ALERT_LOOKBACK_MARGIN_S = 3600


def _alerts(s: Settings, now: datetime) -> tuple[list[Check], dict[str, Any]]:
    """Decide and send the alerts after this sample (docs/alerts.md): the components'
    changes, then the failed and lost runs. A history that cannot be read is a warning
    of the check, never its outcome (the probes' findings stand)."""
    dsn = s.history_dsn.get_secret_value()
    try:
        recent = samples.since(
            dsn, now - timedelta(seconds=s.alerts_wait_s + ALERT_LOOKBACK_MARGIN_S)
        )
        health = alert_evaluate.health(s, samples.observations(recent), now)
        runs = alert_evaluate.runs(s, now)
    except MaintenanceError as exc:
        return [
            Check(
                "alerts decided",
                CheckStatus.WARN,
                observed=f"{type(exc).__name__}: {exc}",
                expected="the job history readable",
                detail="no alert was decided or sent by this check",
            )
        ], {"error": type(exc).__name__}
    figures = health.figures()
    figures["runs_announced"] = runs.runs_sent
    figures["runs_not_delivered"] = runs.runs_failed
    return health.checks() + runs.checks("failed-run alerts"), figures
