"""Alerts after a health check: read the facts, decide (:mod:`.rules`), send, record.

:func:`health` takes what the health checks saw of each component (newest sample first)
and announces the changes in **one** message per channel (Alertmanager's grouping: a
stand-in API that hangs and a Redis that refuses are one page, not two). Its dedup key is
made of the decisions themselves, so a worker that dies between sending and recording
does not page again for the same change: the next run decides the same thing and the
channel's claim in ``notifications`` says it went out already.

The state is recorded only when the message reached a channel (or none is configured):
when every channel failed, the next check decides the same and tries again.

:func:`runs` announces each failed, lost or missed run once (dedup key ``run:<id>``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maintenance import notify
from maintenance.alerts import store
from maintenance.alerts.rules import (
    FAIL,
    ORDER,
    PASS,
    WORDS,
    Action,
    Decision,
    Observation,
    Policy,
    decide,
)
from maintenance.config import Settings
from maintenance.history.models import JobRun
from maintenance.notify import Delivery, Message, Severity
from maintenance.results import Check, CheckStatus

#: Alert keys of health components: ``health:<component>``.
PREFIX = "health:"


def policy_of(settings: Settings) -> Policy:
    return Policy(wait_s=settings.alerts_wait_s, repeat_s=settings.alerts_repeat_s)


@dataclass
class Outcome:
    """What one evaluation decided and delivered."""

    decisions: list[Decision] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    #: Runs announced now (ids), and those whose announcement failed on every channel.
    runs_sent: list[int] = field(default_factory=list)
    runs_failed: list[int] = field(default_factory=list)
    recorded: bool = False
    channels: list[str] = field(default_factory=list)

    @property
    def announced(self) -> list[Decision]:
        return [d for d in self.decisions if d.notifies]

    def figures(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "decisions": {
                d.key: {"action": d.action.value, "status": d.status, "reason": d.reason}
                for d in self.decisions
                if d.action is not Action.NONE
            },
            "deliveries": [
                {
                    "channel": x.channel,
                    "ok": x.ok,
                    "skipped": x.skipped,
                    "attempts": x.attempts,
                    "error": x.error,
                }
                for x in self.deliveries
            ],
            "runs_announced": self.runs_sent,
        }

    def checks(self, what: str = "alerts") -> list[Check]:
        """The alert lines of the health check's checklist (warn, never fail: a channel
        that does not answer must not make the health of the system look worse)."""
        out = []
        failed = [x for x in self.deliveries if not x.ok and not x.skipped]
        if self.announced or self.runs_sent or self.runs_failed:
            out.append(
                Check(
                    f"{what} delivered",
                    CheckStatus.WARN if failed or not self.channels else CheckStatus.PASS,
                    observed=_delivered(self.deliveries) if self.channels else "no channel set",
                    expected="every configured channel",
                    detail="; ".join(f"{x.channel}: {x.error}" for x in failed) or None,
                )
            )
        held = [d for d in self.decisions if d.action is Action.HOLD]
        if held:
            out.append(
                Check(
                    "alerts held by a maintenance window",
                    CheckStatus.PASS,
                    observed=", ".join(d.key.removeprefix(PREFIX) for d in held),
                    expected="sent if still down when the window ends",
                )
            )
        return out


def _delivered(deliveries: Sequence[Delivery]) -> str:
    ok = sum(1 for x in deliveries if x.ok or x.skipped)
    return f"{ok} of {len(deliveries)} deliveries"


def health(
    settings: Settings,
    observations: Mapping[str, Sequence[Observation]],
    now: datetime,
    *,
    service: str = "residency scheduler",
) -> Outcome:
    """Decide every component's alert from its observations (newest first), send the
    changes as one message, record them (module text)."""
    dsn = settings.history_dsn.get_secret_value()
    last = store.notified(dsn)
    holds = store.holds(dsn, now)
    pol = policy_of(settings)
    decisions = [
        decide(PREFIX + component, component, obs, last.get(PREFIX + component), holds, pol, now)
        for component, obs in sorted(observations.items())
    ]
    outcome = Outcome(decisions=decisions, channels=notify.configured_channels(settings))
    announce = outcome.announced
    if announce:
        message = health_message(announce, last, service)
        outcome.deliveries = notify.send(settings, message)
    reached = not outcome.channels or any(x.ok or x.skipped for x in outcome.deliveries)
    if reached or not announce:
        # holds and released holds are recorded either way; announcements once delivered
        store.record(dsn, decisions, now)
        outcome.recorded = True
    else:
        store.record(dsn, [d for d in decisions if not d.notifies], now)
    return outcome


def health_message(decisions: Sequence[Decision], last: Mapping[str, Any], service: str) -> Message:
    """One message for every announced change (pure)."""
    fired = [d for d in decisions if d.action is not Action.RESOLVE]
    severity = (
        Severity.OK
        if not fired
        else Severity.CRITICAL
        if any(d.status == FAIL for d in fired)
        else Severity.WARNING
    )
    names = ", ".join(
        f"{d.key.removeprefix(PREFIX)} {WORDS[d.status]}" for d in sorted(decisions, key=_rank)
    )
    # the channels put the severity in front: [CRITICAL], [WARNING], [OK]
    subject = f"{service}: {names}"
    lines = []
    for d in sorted(decisions, key=_rank):
        name = d.key.removeprefix(PREFIX)
        if d.action is Action.RESOLVE:
            line = f"- {name}: healthy again (was {WORDS[d.previous]})"
        else:
            line = f"- {name}: {WORDS[d.status]}, {d.reason}"
        if d.output and d.status != PASS:
            line += f"\n    {d.output}"
        lines.append(line)
    text = "\n".join(lines)
    # The same decision (the same change, seen from the same first sample; the same
    # repeat of the same notice) always gives the same key.
    basis = ";".join(
        f"{d.key}={d.action.value}:{d.status}@{d.since.isoformat() if d.since else '-'}"
        + (f"/after:{last[d.key].at.isoformat()}" if d.key in last else "")
        for d in sorted(decisions, key=lambda d: d.key)
    )
    key = "health:" + hashlib.sha256(basis.encode()).hexdigest()[:24]
    fields = tuple(
        (d.key.removeprefix(PREFIX), f"{WORDS[d.previous]} -> {WORDS[d.status]}")
        for d in sorted(decisions, key=_rank)
    )
    return Message(
        "recovery" if severity is Severity.OK else _kind(fired),
        severity,
        subject,
        text,
        fields,
        key,
    )


def _kind(fired: Sequence[Decision]) -> str:
    return "repeat" if all(d.action is Action.REPEAT for d in fired) else "alert"


def _rank(d: Decision) -> tuple[int, str]:
    return (-ORDER[d.status], d.key)


#: Failed runs announced by one check at most; the rest go at the next checks (they stay
#: within the lookback), so a burst of failures and a slow channel cannot hold a health
#: check past its time limit.
RUNS_PER_CHECK = 10


def runs(settings: Settings, now: datetime) -> Outcome:
    """Announce each failed, lost or missed run once (module text), oldest first, at most
    :data:`RUNS_PER_CHECK` new announcements per call."""
    dsn = settings.history_dsn.get_secret_value()
    outcome = Outcome(channels=notify.configured_channels(settings))
    rows = store.failed_runs(dsn, now, settings.alerts_run_lookback_s, settings.alerts_run_exclude)
    for run in rows:
        if len(outcome.runs_sent) + len(outcome.runs_failed) >= RUNS_PER_CHECK:
            break
        deliveries = notify.send(settings, run_message(run, settings.timezone))
        fresh = [x for x in deliveries if not x.skipped]
        if not fresh:
            continue  # announced before on every channel
        outcome.deliveries.extend(fresh)
        if any(x.ok for x in fresh):
            outcome.runs_sent.append(run.id)
        else:
            outcome.runs_failed.append(run.id)
    return outcome


def run_message(run: JobRun, zone: str) -> Message:
    """The announcement of one failed or lost run (pure)."""
    from maintenance.clock import to_local

    critical = run.task.startswith(("backup.", "restore."))
    ended = to_local(run.finished_at, zone) if run.finished_at else None
    why = run.summary or run.error_message or "no summary"
    if run.status == "lost":
        why = f"the worker running it died ({why})"
    elif run.status == "missed":
        why = f"no beat sent it in time ({why})"
    subject = f"{run.task} run {run.id} {run.status}"
    text = "\n".join(
        [
            f"{run.task} (run {run.id}, started by {run.trigger}) {run.status}"
            + (f" at {ended:%Y-%m-%d %H:%M %Z}" if ended else "")
            + ".",
            f"Why: {why}",
            f"Details: maint show {run.id}",
        ]
    )
    fields = (
        ("task", run.task),
        ("status", run.status),
        ("host", run.host or "-"),
        ("error", run.error_type or "-"),
    )
    return Message(
        "run",
        Severity.CRITICAL if critical else Severity.WARNING,
        subject,
        text,
        fields,
        dedup_key=f"run:{run.id}",
        run_id=run.id,
    )
