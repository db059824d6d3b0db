"""A finding of the access review: its severity, what was seen, what to do.

Findings become checks one to one: critical and high **fail**, medium **warns**, low and
info pass (they are shown, and kept in the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from maintenance.results import CheckStatus, Result


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def status(self) -> CheckStatus:
        if self in (Severity.CRITICAL, Severity.HIGH):
            return CheckStatus.FAIL
        return CheckStatus.WARN if self is Severity.MEDIUM else CheckStatus.PASS

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    area: str  # postgresql, redis, flower, files
    severity: Severity
    what: str
    action: str
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "severity": self.severity.value,
            "subject": self.subject,
            "what": self.what,
            "action": self.action,
        }


def add_checks(result: Result, findings: list[Finding], areas: dict[str, str]) -> None:
    """One check per finding, worst first; an area without any gets one passing check.
    ``areas``: {area: what was looked at}."""
    for f in sorted(findings, key=lambda f: (f.severity.rank, f.area, f.subject)):
        result.check(
            f"[{f.severity.value}] {f.area}: {f.what}",
            f.severity.status is CheckStatus.PASS,
            warn_only=f.severity.status is CheckStatus.WARN,
            observed=f.subject or None,
            expected=None,
            detail=f.action,
        )
    for area, looked in areas.items():
        if not any(f.area == area for f in findings):
            result.check(f"{area}: no finding", True, observed=looked)
