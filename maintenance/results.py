"""Run statuses, triggers and the checklist result every task returns.

The playbook's paper checklists become :class:`Result` objects: a list of
:class:`Check` (name, pass/warn/fail, what was observed, what was expected) plus
figures (sizes, counts, durations). The run's status follows from its checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Lifecycle of one job-history row, stored by value."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    LOST = "lost"  # the worker died; no one will finish this row
    MISSED = "missed"  # beat was not running when it was due, and it was not caught up

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for a run that ended in this status."""
        return {RunStatus.SUCCEEDED: 0, RunStatus.SKIPPED: 3}.get(self, 1)


class Trigger(StrEnum):
    """Who started a run."""

    BEAT = "beat"  # the periodic schedule
    ADHOC = "adhoc"  # sent to the workers by a person (Flower, maint run --enqueue)
    CLI = "cli"  # run in-process by ``maint run``
    WINDOW = "window"  # a step of a maintenance window run


class CheckStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One line of a checklist: what was looked at, what was seen, what was wanted."""

    name: str
    status: CheckStatus
    observed: Any = None
    expected: Any = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "observed": self.observed,
            "expected": self.expected,
        }
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            name=data["name"],
            status=CheckStatus(data["status"]),
            observed=data.get("observed"),
            expected=data.get("expected"),
            detail=data.get("detail"),
        )


@dataclass
class Result:
    """What a task returns: a checklist, figures and a one-line summary."""

    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    def check(
        self,
        name: str,
        ok: bool,
        *,
        observed: Any = None,
        expected: Any = None,
        warn_only: bool = False,
        detail: str | None = None,
    ) -> Check:
        """Append a check that passes when ``ok``; otherwise fail (or warn if ``warn_only``)."""
        status = CheckStatus.PASS if ok else (CheckStatus.WARN if warn_only else CheckStatus.FAIL)
        item = Check(name, status, observed, expected, detail)
        self.checks.append(item)
        return item

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status is CheckStatus.FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status is CheckStatus.WARN]

    @property
    def status(self) -> RunStatus:
        """Failed if any check failed, otherwise succeeded (warnings do not fail a run)."""
        return RunStatus.FAILED if self.failed else RunStatus.SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "checks": [c.to_dict() for c in self.checks],
            "figures": self.figures,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls(
            checks=[Check.from_dict(c) for c in data.get("checks", [])],
            figures=dict(data.get("figures", {})),
            summary=data.get("summary", ""),
        )
