"""When an alert pages (pure): Alertmanager's semantics, kept small.

Given what the health checks saw of one alert key (its observations, newest first), what
was last notified for it, the maintenance windows that hold it and the policy, decide
one :class:`Action`. Nothing here reads a clock or a database; the state is computed from
stored timestamps (healthchecks' ``Check.get_status()``), never kept in a flag that can
drift.

* **Notify on a change, not per sample.** A status is *confirmed* once the newest run of
  equal observations spans at least ``wait_s`` (first and newest sample of the run). A
  blip that clears on the next sample is never confirmed, so it never pages. A confirmed
  status different from the one last notified is announced once: ``fire`` (worse than
  pass, including degraded -> critical and critical -> degraded) or ``resolve`` (back to
  pass).
* **Repeat while it lasts**: the same non-pass status, last notified ``repeat_s`` ago or
  more, is announced again (``repeat``).
* **Held by a window**: a ``fire`` or ``repeat`` for a component that an announced,
  running maintenance window expects to take down is ``hold`` instead; once the window
  ends the same decision comes out as ``fire`` (the component is still down), and if the
  component came back during the window nothing was ever sent. Recoveries are never
  held.
* A key never notified counts as last notified ``pass`` (healthy is the default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: Statuses of the Health Check Response Format, from best to worst.
PASS, WARN, FAIL = "pass", "warn", "fail"
ORDER = {PASS: 0, WARN: 1, FAIL: 2}
#: How a status reads to a person.
WORDS = {PASS: "healthy", WARN: "degraded", FAIL: "critical"}


class Action(StrEnum):
    NONE = "none"
    WAIT = "wait"  # a change seen, not yet confirmed
    FIRE = "fire"
    REPEAT = "repeat"
    RESOLVE = "resolve"
    HOLD = "hold"  # would fire or repeat; a maintenance window holds it


@dataclass(frozen=True)
class Observation:
    at: datetime
    status: str
    #: What was wrong, in a line (empty when it passed).
    output: str = ""


@dataclass(frozen=True)
class Notified:
    """What was last announced for a key (``alert_state``)."""

    status: str
    at: datetime
    #: When the incident being announced began (None after a recovery).
    opened_at: datetime | None = None
    held_since: datetime | None = None


@dataclass(frozen=True)
class Hold:
    """A running maintenance window that takes some components down."""

    window_run_id: int
    kind: str
    started_at: datetime
    ends_at: datetime | None
    components: frozenset[str]

    def covers(self, component: str, now: datetime) -> bool:
        if component not in self.components or now < self.started_at:
            return False
        return self.ends_at is None or now < self.ends_at


@dataclass(frozen=True)
class Policy:
    #: A new status must hold this long (first to newest sample) before it is announced.
    wait_s: float = 240.0
    #: An open alert is announced again after this long.
    repeat_s: float = 4 * 3600.0


@dataclass(frozen=True)
class Decision:
    key: str
    action: Action
    #: The status the key is in now (confirmed or not).
    status: str
    #: The status last notified.
    previous: str
    #: When the newest run of ``status`` began.
    since: datetime | None
    output: str
    reason: str
    #: The window that holds it (``hold`` only).
    held_by: Hold | None = None

    @property
    def notifies(self) -> bool:
        return self.action in (Action.FIRE, Action.REPEAT, Action.RESOLVE)


def streak(observations: Sequence[Observation]) -> tuple[str, datetime, datetime] | None:
    """(status, first, newest) of the newest run of equal statuses; None if no sample."""
    if not observations:
        return None
    newest = observations[0]
    first = newest.at
    for obs in observations[1:]:
        if obs.status != newest.status:
            break
        first = obs.at
    return newest.status, first, newest.at


def decide(
    key: str,
    component: str,
    observations: Sequence[Observation],
    notified: Notified | None,
    holds: Sequence[Hold],
    policy: Policy,
    now: datetime,
) -> Decision:
    """The one action for ``key`` now (module text). ``observations`` newest first."""
    last = notified or Notified(PASS, datetime.min.replace(tzinfo=now.tzinfo))
    run = streak(observations)
    if run is None:
        return Decision(key, Action.NONE, last.status, last.status, None, "", "no sample yet")
    status, first, newest = run
    output = observations[0].output
    lasted = (newest - first).total_seconds()
    confirmed = lasted >= policy.wait_s

    def decision(action: Action, reason: str, held_by: Hold | None = None) -> Decision:
        return Decision(key, action, status, last.status, first, output, reason, held_by)

    if status == last.status:
        if status == PASS:
            return decision(Action.NONE, "healthy, as last notified")
        since_notice = (now - last.at).total_seconds()
        if since_notice < policy.repeat_s:
            return decision(Action.NONE, f"{WORDS[status]} since {first:%H:%M}Z, already notified")
        action, reason = Action.REPEAT, f"still {WORDS[status]} after {_span(since_notice)}"
    elif not confirmed:
        return decision(
            Action.WAIT,
            f"{WORDS[status]} for {_span(lasted)}; announced once it lasts {_span(policy.wait_s)}",
        )
    elif status == PASS:
        return decision(Action.RESOLVE, f"recovered (was {WORDS[last.status]})")
    else:
        action = Action.FIRE
        reason = f"{WORDS[status]} for {_span(lasted)} (was {WORDS[last.status]})"
    hold = next((h for h in holds if h.covers(component, now)), None)
    if hold is not None:
        until = f" until {hold.ends_at:%H:%M}Z" if hold.ends_at else ""
        return decision(
            Action.HOLD,
            f"{reason}; held: the {hold.kind} window (run {hold.window_run_id}) takes "
            f"{component} down{until}",
            hold,
        )
    return decision(action, reason)


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
