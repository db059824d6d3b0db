"""The health check's judgement: probe outcomes, the policy and the time in, the
document out. Pure (docs/health.md lists every rule). Each component is judged in
:mod:`.services` (API, database, cache) or :mod:`.system` (Celery, host), with the
policy and shared rules of :mod:`.policy`; the names callers use are here too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maintenance.cache.samples import Sample
from maintenance.health import document
from maintenance.health.document import Entry
from maintenance.health.parallel import Outcome
from maintenance.health.policy import (
    DEGRADED,
    HEALTHY,
    HealthPolicy,
    Ids,
    as_number,
    as_ratio,
)
from maintenance.health.services import api, cache, database
from maintenance.health.system import celery, host

__all__ = [
    "DEGRADED",
    "HEALTHY",
    "HealthPolicy",
    "Ids",
    "api",
    "as_number",
    "as_ratio",
    "assess",
    "cache",
    "celery",
    "database",
    "host",
]


# --- the whole check -------------------------------------------------------------------


def _outcome(outcomes: Mapping[str, Outcome], name: str) -> Outcome:
    return outcomes.get(name) or Outcome(name, error="not probed")


def assess(
    outcomes: Mapping[str, Outcome],
    policy: HealthPolicy,
    now: datetime,
    *,
    ids: Ids,
    release: str,
    description: str = "the residency scheduler and its maintenance suite",
) -> dict[str, Any]:
    """The health document of one check (pure; :mod:`maintenance.health.document`)."""
    get = outcomes.get
    history = _outcome(outcomes, "history")
    previous: Sample | None = history.value.previous_cache if history.ok else None
    notes: list[str] = []
    entries: list[Entry] = []
    entries += api(_outcome(outcomes, "api"), get("api_extended"), policy, now, ids)
    entries += database(_outcome(outcomes, "database"), policy, now, ids)
    cache_entries, span = cache(_outcome(outcomes, "cache"), previous, policy, now, ids)
    entries += cache_entries
    if span is not None and span.basis != "previous sample":
        notes.append(f"cache hit rate and evictions {span.describe()}")
    entries += celery(
        _outcome(outcomes, "workers"),
        _outcome(outcomes, "queues"),
        history,
        _outcome(outcomes, "backups"),
        policy,
        now,
        ids,
    )
    host_entries, host_notes = host(_outcome(outcomes, "host"), get("folders"), policy, now, ids)
    entries += host_entries
    notes += host_notes
    cache_facts = _outcome(outcomes, "cache")
    counters = {"cache": cache_facts.value.sample.to_dict()} if cache_facts.ok else None
    return document.build(
        entries,
        critical=policy.critical,
        release=release,
        description=description,
        notes=notes,
        counters=counters,
    )
