"""The notification tasks: ``alerts.test`` (one test message through every channel) and
the notices, ``notice.weekly`` ... ``notice.problem`` (docs/notices.md).

Each run's checklist has one check per channel with what became of the message there
(sent in N attempts, already sent, or the error); a channel that failed fails the run,
and so does having no channel at all (the check says which settings to set). A notice is
rendered before anything is sent: a template that asks for a field the notice does not
have fails the run and sends nothing.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.config import Settings
from maintenance.errors import ParamError
from maintenance.notify import notices
from maintenance.notify.deliver import configured_channels, send
from maintenance.notify.message import Delivery, Message, Severity
from maintenance.notify.notices import NoticeKind, Request
from maintenance.results import Result
from maintenance.taskspec import NoParams, Params, RunContext
from maintenance.windows import WINDOWS, WindowKind, occurs_on

#: What to set for a channel, named by the failing check when none is configured.
HOW_TO_CONFIGURE = (
    "no notification channel is configured: set MAINT_NOTIFY_WEBHOOK_URL (or "
    "MAINT_NOTIFY_WEBHOOK_URL_FILE) for the webhook, and/or MAINT_NOTIFY_SMTP_HOST with "
    "MAINT_NOTIFY_SMTP_FROM and MAINT_NOTIFY_SMTP_TO for e-mail (docs/notices.md)"
)


def _force() -> Any:
    """A fresh field each time: pydantic may adjust a FieldInfo for its model."""
    return Field(False, description="Send even if this notice already went out (no dedup key).")


def report(result: Result, deliveries: list[Delivery], settings: Settings) -> None:
    """One check per channel; a failing one when there is no channel."""
    if not configured_channels(settings):
        result.check(
            "notification channels configured",
            False,
            observed="none",
            expected="webhook and/or email",
            detail=HOW_TO_CONFIGURE,
        )
    for d in deliveries:
        if d.skipped:
            observed = "already sent (or being sent): not sent again"
        elif d.ok:
            observed = f"sent in {d.attempts} attempt{'s' if d.attempts != 1 else ''}"
        else:
            observed = f"failed after {d.attempts} attempt{'s' if d.attempts != 1 else ''}"
        result.check(
            f"channel {d.channel}", d.ok, observed=observed, expected="delivered", detail=d.error
        )
    result.figures["deliveries"] = [d.to_dict() for d in deliveries]


def _outcome(deliveries: list[Delivery]) -> str:
    if not deliveries:
        return "no channel configured"
    return ", ".join(
        f"{d.channel} {'skipped (already sent)' if d.skipped else 'sent' if d.ok else 'FAILED'}"
        for d in deliveries
    )


# --- alerts.test ---------------------------------------------------------------------------


def alerts_test(ctx: RunContext, params: NoParams) -> Result:
    """One test message through every configured channel (module text)."""
    now = clock.now()
    local = clock.to_local(now, ctx.settings.zone)
    message = Message(
        kind="test",
        severity=Severity.INFO,
        subject="Test message from the residency maintenance suite",
        text="This is a test of the maintenance alert channels (the weekly window's "
        "alert testing). Nothing is wrong; no action is needed.",
        fields=(
            ("Host", socket.gethostname()),
            ("Sent", local.strftime("%Y-%m-%d %H:%M %Z")),
            ("Run", str(ctx.run_id) if ctx.run_id is not None else "not recorded"),
        ),
        run_id=ctx.run_id,
    )
    deliveries = send(ctx.settings, message)
    result = Result()
    report(result, deliveries, ctx.settings)
    result.summary = f"alert test: {_outcome(deliveries)}"
    return result


# --- notices ------------------------------------------------------------------------------


class AdvanceParams(Params):
    date: dt.date | None = Field(
        None, description="The window's date (YYYY-MM-DD); default: the next window of its kind."
    )
    force: bool = _force()


class EmergencyParams(Params):
    reason: str = Field(
        ..., min_length=3, max_length=500, description="Why: what is broken or urgent."
    )
    start: dt.datetime | None = Field(
        None, description="When work starts (ISO; without an offset: MAINT_TIMEZONE); default now."
    )
    duration_min: int = Field(60, ge=5, le=1440, description="Expected length in minutes.")
    impact: str | None = Field(
        None,
        max_length=500,
        description="Expected impact (default: the system may be unavailable).",
    )
    force: bool = _force()


class DuringParams(Params):
    window: WindowKind = Field(WindowKind.WEEKLY, description="Which window.")
    date: dt.date | None = Field(
        None, description="The window's date; default: the one under way or last begun."
    )
    start: dt.datetime | None = Field(
        None, description="An emergency window's start (window=emergency only)."
    )
    duration_min: int = Field(
        60, ge=5, le=1440, description="An emergency window's length in minutes."
    )


class StatusParams(DuringParams):
    message: str | None = Field(None, max_length=1000, description="The update's text.")
    force: bool = _force()


class AllClearParams(DuringParams):
    message: str | None = Field(None, max_length=1000, description="A closing note.")
    force: bool = _force()


class ProblemParams(DuringParams):
    what_failed: str = Field(..., min_length=3, max_length=500, description="What failed.")
    message: str | None = Field(None, max_length=1000, description="What happens next.")
    force: bool = _force()


PARAMS: dict[NoticeKind, type[Params]] = {
    NoticeKind.WEEKLY: AdvanceParams,
    NoticeKind.MONTHLY: AdvanceParams,
    NoticeKind.QUARTERLY: AdvanceParams,
    NoticeKind.EMERGENCY: EmergencyParams,
    NoticeKind.STATUS: StatusParams,
    NoticeKind.ALL_CLEAR: AllClearParams,
    NoticeKind.PROBLEM: ProblemParams,
}


def _aware(moment: dt.datetime | None, settings: Settings) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=settings.zone)


def request(kind: NoticeKind, params: Params, settings: Settings) -> Request:
    """The notice ``params`` ask for; ParamError for a date without that window (pure)."""
    task = f"notice.{kind.value}"
    if kind in notices.ADVANCE:
        assert isinstance(params, AdvanceParams)
        window = notices.ADVANCE[kind]
        _check_date(task, window, params.date)
        return Request(kind, window, date=params.date)
    if isinstance(params, EmergencyParams):
        return Request(
            kind,
            WindowKind.EMERGENCY,
            start=_aware(params.start, settings),
            duration=dt.timedelta(minutes=params.duration_min),
            reason=params.reason,
            impact=params.impact,
        )
    assert isinstance(params, StatusParams | AllClearParams | ProblemParams)
    if params.window is WindowKind.EMERGENCY:
        if params.start is None:
            raise ParamError(f"{task}: window=emergency needs start (its start as announced)")
    elif params.start is not None:
        raise ParamError(f"{task}: start is only for window=emergency")
    _check_date(task, params.window, params.date)
    return Request(
        kind,
        params.window,
        date=params.date,
        start=_aware(params.start, settings),
        duration=dt.timedelta(minutes=params.duration_min),
        message=getattr(params, "message", None),
        what_failed=getattr(params, "what_failed", None),
    )


def _check_date(task: str, window: WindowKind, day: dt.date | None) -> None:
    if day is not None and window is not WindowKind.EMERGENCY and not occurs_on(window, day):
        rule = {
            WindowKind.WEEKLY: "on Sundays",
            WindowKind.MONTHLY: "on the first Sunday of a month",
            WindowKind.QUARTERLY: "on the first Sunday of January, April, July and October",
        }.get(window, "")
        raise ParamError(
            f"{task}: {day.isoformat()} ({day:%A}) has no {WINDOWS[window].title.lower()} "
            f"window; it falls {rule}"
        )


def render(kind: NoticeKind, params: Params, settings: Settings) -> notices.Notice:
    """The notice, rendered now (``maint notice preview`` shows it; nothing is sent)."""
    text, where = notices.template(kind, settings.notify_templates_dir)
    return notices.build(request(kind, params, settings), clock.now(), settings.zone, text, where)


def _notice(kind: NoticeKind, ctx: RunContext, params: Any) -> Result:
    notice = render(kind, params, ctx.settings)  # before anything is sent
    force = bool(params.force)
    deliveries = send(ctx.settings, notice.message(force=force, run_id=ctx.run_id))
    result = Result()
    result.figures["notice"] = {
        "kind": kind.value,
        "window": notice.window.value,
        "date": notice.date.isoformat(),
        "start": notice.start.isoformat(),
        "end": notice.end.isoformat(),
        "subject": notice.subject,
        "dedup_key": notice.dedup_key,
        "forced": force,
    }
    report(result, deliveries, ctx.settings)
    result.summary = f"{kind.value} notice for {notice.date.isoformat()}: {_outcome(deliveries)}"
    return result


def weekly(ctx: RunContext, params: AdvanceParams) -> Result:
    return _notice(NoticeKind.WEEKLY, ctx, params)


def monthly(ctx: RunContext, params: AdvanceParams) -> Result:
    return _notice(NoticeKind.MONTHLY, ctx, params)


def quarterly(ctx: RunContext, params: AdvanceParams) -> Result:
    return _notice(NoticeKind.QUARTERLY, ctx, params)


def emergency(ctx: RunContext, params: EmergencyParams) -> Result:
    return _notice(NoticeKind.EMERGENCY, ctx, params)


def status(ctx: RunContext, params: StatusParams) -> Result:
    return _notice(NoticeKind.STATUS, ctx, params)


def all_clear(ctx: RunContext, params: AllClearParams) -> Result:
    return _notice(NoticeKind.ALL_CLEAR, ctx, params)


def problem(ctx: RunContext, params: ProblemParams) -> Result:
    return _notice(NoticeKind.PROBLEM, ctx, params)
