"""The notices a window run sends (docs/calendar.md, "Notices"): each through the notify
task functions, and one that cannot be sent is a warning in the window's checklist,
never a failure of the window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maintenance.notify import tasks as notify
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.window import plan


def send(
    ctx: RunContext,
    result: Result,
    notices: list[dict[str, Any]],
    label: str,
    func: Callable[[RunContext, Any], Result],
    params: Params,
) -> None:
    """Send one notice; one that cannot be sent is a warning, never a failure."""
    try:
        sent = func(ctx, params)
    except Exception as exc:  # noqa: BLE001 - a notice never fails the window
        ok, observed = False, f"{type(exc).__name__}: {exc}"
    else:
        ok, observed = not sent.failed, sent.summary
    result.check(f"notice {label}", ok, warn_only=True, observed=observed, expected="sent")
    notices.append({"notice": label, "sent": ok, "summary": observed})


def emergency(
    ctx: RunContext, reason: str, duration_min: int, sp: plan.Span, result: Result
) -> None:
    """An emergency window: its immediate notice, and the run's record of it."""
    notices: list[dict[str, Any]] = []
    send(
        ctx,
        result,
        notices,
        "emergency",
        notify.emergency,
        notify.EmergencyParams(reason=reason, start=sp.start, duration_min=duration_min),
    )
    result.check("emergency window recorded", True, observed=reason)
    result.figures["steps"] = []
    result.figures["notices"] = notices
    result.summary = (
        f"emergency window run {result.figures['window_run_id']}: {reason} "
        f"(until {sp.end.astimezone(ctx.settings.zone):%H:%M %Z})"
    )
