"""The health document: the Health Check Response Format for HTTP APIs
(draft-inadarei-api-health-check-06, media type ``application/health+json``), and the
rules that make one overall status of its checks. Pure.

A document::

    {"status": "pass" | "warn" | "fail",
     "version": "1", "releaseId": "0.1.0", "serviceId": "residency-scheduler",
     "description": "...",
     "checks": {"api:responseTime": [{"componentId": "http://127.0.0.1:8000",
                                      "componentType": "component",
                                      "observedValue": 12.5, "observedUnit": "ms",
                                      "status": "pass", "time": "2026-12-07T10:00:00Z"}],
                ...},
     "output": "api: ...; cache: ..."   (only when not pass),
     "notes": [...],
     "counters": {"cache": {...}}}      (the suite's own: raw counters for the next delta)

Each key of ``checks`` is ``component:measurement``; the component is one of
:data:`COMPONENTS`. An entry's ``output`` is there only when its status is not pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from maintenance.config.health import COMPONENTS

MEDIA_TYPE = "application/health+json"
SERVICE_ID = "residency-scheduler"

__all__ = [
    "COMPONENTS",
    "MEDIA_TYPE",
    "Entry",
    "Status",
    "build",
    "component_status",
    "overall",
    "worst",
]


class Status(StrEnum):
    """The draft's statuses; in the playbook's words pass is healthy / UP, warn degraded,
    fail critical / DOWN."""

    PASS = "pass"  # noqa: S105 - a health status, not a password
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}[self]

    @property
    def overall_word(self) -> str:
        return {Status.PASS: "healthy", Status.WARN: "degraded", Status.FAIL: "critical"}[self]

    @property
    def component_word(self) -> str:
        return {Status.PASS: "UP", Status.WARN: "DEGRADED", Status.FAIL: "DOWN"}[self]

    @property
    def exit_code(self) -> int:
        """``maint health``'s exit code: 0 healthy, 1 degraded, 2 critical."""
        return self.rank


def worst(statuses: Iterable[Status | str]) -> Status:
    """The worst of ``statuses`` (pass when there are none)."""
    return max((Status(s) for s in statuses), key=lambda s: s.rank, default=Status.PASS)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    """One check object: a measurement of one component (instance)."""

    component: str
    measurement: str
    component_type: str  # "component" | "datastore" | "system"
    status: Status
    time: datetime
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None
    component_id: str | None = None

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise ValueError(f"unknown component {self.component!r}")

    @property
    def key(self) -> str:
        return f"{self.component}:{self.measurement}"

    @property
    def label(self) -> str:
        """The key, with the instance when it names one (a checklist line's name)."""
        return f"{self.key} ({self.component_id})" if self.component_id else self.key

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.component_id is not None:
            out["componentId"] = self.component_id
        out["componentType"] = self.component_type
        if self.observed_value is not None:
            out["observedValue"] = self.observed_value
        if self.observed_unit is not None:
            out["observedUnit"] = self.observed_unit
        out["status"] = self.status.value
        out["time"] = _iso(self.time)
        if self.status is not Status.PASS and self.output:
            out["output"] = self.output
        return out


def overall(components: Mapping[str, Status], critical: Iterable[str]) -> Status:
    """The overall status of a check, from each component's (docs/health.md):

    * **critical** (fail): a critical component failed;
    * **degraded** (warn): otherwise, any component warned or failed;
    * **healthy** (pass): every component passed.
    """
    crit = set(critical)
    if any(s is Status.FAIL and c in crit for c, s in components.items()):
        return Status.FAIL
    if any(s is not Status.PASS for s in components.values()):
        return Status.WARN
    return Status.PASS


def statuses(entries: Sequence[Entry]) -> dict[str, Status]:
    """Each component's status: the worst of its entries (in :data:`COMPONENTS` order)."""
    out: dict[str, Status] = {}
    for component in COMPONENTS:
        mine = [e.status for e in entries if e.component == component]
        if mine:
            out[component] = worst(mine)
    return out


def build(
    entries: Sequence[Entry],
    *,
    critical: Iterable[str],
    release: str,
    description: str,
    notes: Sequence[str] = (),
    counters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document of ``entries`` (the overall status by :func:`overall`)."""
    by_component = statuses(entries)
    status = overall(by_component, critical)
    checks: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        checks.setdefault(entry.key, []).append(entry.to_dict())
    doc: dict[str, Any] = {
        "status": status.value,
        "version": "1",
        "releaseId": release,
        "serviceId": SERVICE_ID,
        "description": description,
        "checks": checks,
    }
    if status is not Status.PASS:
        doc["output"] = "; ".join(
            f"{c} {s.value}: "
            + ", ".join(
                e.output or e.status.value
                for e in entries
                if e.component == c and e.status is not Status.PASS
            )
            for c, s in by_component.items()
            if s is not Status.PASS
        )
    if notes:
        doc["notes"] = list(notes)
    if counters:
        doc["counters"] = dict(counters)
    return doc


def component_status(document: Mapping[str, Any]) -> dict[str, str]:
    """Component name (``api``, ``database``, ``cache``, ``celery``, ``host``) -> the worst
    status of its checks in ``document``. A check whose status is not one of the draft's
    counts as fail (a document that says something unknown is not healthy)."""
    found: dict[str, list[Status]] = {}
    for key, items in (document.get("checks") or {}).items():
        component = str(key).split(":", 1)[0]
        for item in items if isinstance(items, list) else [items]:
            raw = item.get("status") if isinstance(item, Mapping) else None
            try:
                status = Status(str(raw))
            except ValueError:
                status = Status.FAIL
            found.setdefault(component, []).append(status)
    ordered = [c for c in COMPONENTS if c in found] + sorted(set(found) - set(COMPONENTS))
    return {c: worst(found[c]).value for c in ordered}


def entries_of(document: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(key, check object) of every check of ``document``, in its order."""
    out = []
    for key, items in (document.get("checks") or {}).items():
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, Mapping):
                out.append((str(key), dict(item)))
    return out
