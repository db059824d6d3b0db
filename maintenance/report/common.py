"""What the report's sections share: the context of a report, and the small readers of a
run's row (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

BAD_STATUSES = ("failed", "lost", "missed")
#: who can type a bad input (history.store.rejected_input's rule)
PEOPLE = ("cli", "adhoc")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant as the report writes it (``...Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def figures(run: dict[str, Any]) -> dict[str, Any]:
    return dict((run.get("result") or {}).get("figures") or {})


def checks(run: dict[str, Any]) -> list[dict[str, Any]]:
    return list((run.get("result") or {}).get("checks") or [])


def missing(what: str, month: str) -> str:
    return f"not found: {what} in {month}"


def run_ref(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run["id"],
        "task": run["task"],
        "status": run["status"],
        "trigger": run["trigger"],
        "started_at": iso(run["started_at"]),
        "finished_at": iso(run.get("finished_at")),
        "duration_s": run.get("duration_s"),
        "summary": run.get("summary"),
    }


@dataclass(frozen=True)
class Context:
    """What the report is about and when it was made."""

    month: str
    zone: str
    generated_at: datetime
    run_id: int | None = None
    #: a drill's objectives when its result does not carry them (settings)
    rto_objective_s: float | None = None
    rpo_objective_s: float | None = None
    #: MAINT_HEALTH_SAMPLE_RETENTION_DAYS: samples older than this were pruned
    sample_retention_days: int | None = None
