"""``window.run``: one maintenance window, run here (docs/calendar.md, "window.run").

Thin: the plan is :mod:`.plan` (pure). This module opens the ``window_runs`` row (alerts
for the components it takes down are held while it runs), runs each step through
:func:`maintenance.runner.execute` (trigger ``window``, linked by ``window_run_id``),
sends the window's notices (:mod:`.notices`), and closes the row on
every exit path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from pydantic import Field, model_validator

from maintenance import clock, runner
from maintenance.calendar import blackout, publication
from maintenance.calendar.model import Entry, is_step
from maintenance.errors import ConfigError, ParamError, RunSkipped
from maintenance.history import store
from maintenance.notify import tasks as notify
from maintenance.results import Result, RunStatus, Trigger
from maintenance.taskspec import Params, RunContext, TaskSpec
from maintenance.window import notices, plan
from maintenance.windows import WINDOWS, Slot, WindowKind, current_or_last_date, occurs_on

log = structlog.get_logger(__name__)

Lookup = Callable[[str], TaskSpec[Any]]


class WindowParams(Params):
    kind: WindowKind = Field(..., description="Which window.")
    date: dt.date | None = Field(
        None, description="The night (YYYY-MM-DD); default: today in MAINT_TIMEZONE."
    )
    force_reason: str | None = Field(
        None,
        max_length=500,
        description="Run disruptive steps despite a blackout; the reason is recorded.",
    )
    reason: str | None = Field(
        None, max_length=500, description="Why (required for kind=emergency)."
    )
    duration_min: int = Field(
        60, ge=5, le=1440, description="An emergency window's length in minutes."
    )
    dry_run: bool = Field(False, description="Only show the plan: nothing runs or is recorded.")

    @model_validator(mode="after")
    def _emergency_reason(self) -> WindowParams:
        if self.kind is WindowKind.EMERGENCY and not (self.reason and self.reason.strip()):
            raise ValueError("kind=emergency needs a reason (what is broken or urgent)")
        return self


def load_calendar(module: str, settings: Any) -> tuple[list[Entry], Mapping[str, tuple[str, ...]]]:
    """The window steps of ``module.steps(settings)`` and its dependency map
    (``WINDOW_AFTER``, default :data:`plan.AFTER`)."""
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"window.run: cannot import calendar module {module!r}: {exc}") from None
    steps = getattr(found, "steps", None)
    if not callable(steps):
        raise ConfigError(f"window.run: calendar module {module!r} has no steps(settings)")
    return [e for e in steps(settings) if is_step(e)], getattr(found, "WINDOW_AFTER", plan.AFTER)


def run(ctx: RunContext, params: WindowParams, lookup: Lookup) -> Result:
    settings = ctx.settings
    zone = settings.zone
    now = clock.now()
    kind = params.kind
    # Beat sends a window at its start and may send it late, but only while it lasts
    # (its catch-up rule): its night is the one in progress, and it keeps its planned
    # span, so a late start has less time and the buffer rule still holds.
    scheduled = ctx.trigger is Trigger.BEAT and kind is not WindowKind.EMERGENCY
    if params.date is not None:
        day = params.date
    elif scheduled:
        day = current_or_last_date(kind, now, zone)
    else:
        day = now.astimezone(zone).date()
    if kind is not WindowKind.EMERGENCY and not occurs_on(kind, day):
        raise ParamError(
            f"window.run: {day.isoformat()} ({day:%A}) has no {WINDOWS[kind].title.lower()} window"
        )
    duration = dt.timedelta(minutes=params.duration_min) if kind is WindowKind.EMERGENCY else None
    sp = plan.window_span(kind, day, zone, now, duration, scheduled=scheduled)
    if scheduled and now >= sp.end:
        raise RunSkipped(
            f"the {kind.value} window of {day.isoformat()} ended at "
            f"{sp.end.astimezone(zone):%H:%M %Z}: a window is not started after its end "
            f"(run it by hand with `maint window run {kind.value}` if it is still wanted)"
        )
    force = params.force_reason.strip() if params.force_reason else None
    entries: list[Entry] = []
    after: Mapping[str, tuple[str, ...]] = plan.AFTER
    reasons: list[str] = []
    if kind is not WindowKind.EMERGENCY:
        entries, after = load_calendar(settings.calendar_module, settings)
        facts = blackout.Blackouts(
            settings.calendar_survey_dates,
            settings.calendar_blackout_dates,
            publication.read(settings),
        )
        reasons = plan.blackout_reasons(sp, zone, facts)
        if facts.publication.unknown:
            log.warning("window.publication_unknown", reason=facts.publication.unknown)
    ordered = plan.steps(entries, kind)
    result = Result()
    result.figures.update(
        kind=kind.value,
        date=day.isoformat(),
        start=sp.start.isoformat(),
        ends_at=sp.end.isoformat(),
        expected_down=list(WINDOWS[kind].expected_down),
        blackout=reasons,
        force_reason=force,
    )
    if params.dry_run:
        return _dry_run(result, entries, kind, after, reasons, force, sp)
    recorded = "; ".join(
        r for r in (params.reason, f"forced despite blackout: {force}" if force else None) if r
    )
    dsn = settings.history_dsn.get_secret_value()
    wid = store.open_window_run(
        dsn,
        store.WindowStart(
            kind=kind.value,
            local_date=day,
            trigger=ctx.trigger,
            started_at=now,
            ends_at=sp.end,
            expected_down=WINDOWS[kind].expected_down,
            scheduled_for=None if kind is WindowKind.EMERGENCY else sp.scheduled_start,
            reason=recorded or None,
        ),
    )
    result.figures["window_run_id"] = wid
    try:
        if kind is WindowKind.EMERGENCY:
            assert params.reason is not None  # the params' validator
            notices.emergency(ctx, params.reason, params.duration_min, sp, result)
        else:
            _steps(ctx, result, wid, ordered, after, reasons, force, sp, lookup)
    except BaseException as exc:
        result.check("window completed", False, observed=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            store.close_window_run(dsn, wid, RunStatus.FAILED, result.to_dict())
        raise
    store.close_window_run(dsn, wid, result.status, result.to_dict())
    return result


def _blackout_check(result: Result, reasons: Sequence[str], force: str | None) -> None:
    if not reasons:
        result.check("blackout", True, observed="none", expected="none")
    elif force:
        result.check(
            "blackout",
            True,
            observed="; ".join(reasons),
            expected="overridden",
            detail=f"force_reason: {force}",
        )
    else:
        result.check(
            "blackout",
            False,
            warn_only=True,
            observed="; ".join(reasons),
            expected="none",
            detail="disruptive steps are skipped; read-only ones run",
        )


def _dry_run(
    result: Result,
    entries: list[Entry],
    kind: WindowKind,
    after: Mapping[str, tuple[str, ...]],
    reasons: list[str],
    force: str | None,
    sp: plan.Span,
) -> Result:
    decisions = plan.plan(
        entries,
        kind,
        outcomes={},
        blackouts=reasons,
        force_reason=force,
        now=sp.start,
        buffer_start=sp.buffer_start,
        after=after,
    )
    for d in decisions:
        observed = d.skip or (
            f"runs after {', '.join(d.waits_for)} succeeds" if d.waits_for else "runs"
        )
        result.check(
            f"step {d.entry.name}",
            d.skip is None,
            warn_only=True,
            observed=observed,
            expected="runs",
        )
    _blackout_check(result, reasons, force)
    result.figures["steps"] = [
        {
            "name": d.entry.name,
            "task": d.entry.task,
            "slot": d.slot,
            "skip": d.skip,
            "after": list(d.waits_for),
        }
        for d in decisions
    ]
    result.figures["dry_run"] = True
    runs = sum(1 for d in decisions if d.skip is None)
    result.summary = (
        f"dry run: {result.figures['kind']} window {result.figures['date']}: "
        f"{runs} of {len(decisions)} steps would run"
    )
    return result


def _steps(
    ctx: RunContext,
    result: Result,
    wid: int,
    ordered: list[Entry],
    after: Mapping[str, tuple[str, ...]],
    reasons: list[str],
    force: str | None,
    sp: plan.Span,
    lookup: Lookup,
) -> None:
    kind = sp.kind
    outcomes: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    slots = plan.slots_of(kind)
    groups: list[tuple[Slot | None, list[Entry]]] = [
        (s, [e for e in ordered if e.slot == s.title]) for s in slots
    ]
    titles = {s.title for s in slots}
    loose = [e for e in ordered if e.slot not in titles]
    if loose:
        groups.append((None, loose))
    sent: list[dict[str, Any]] = []
    previous: Slot | None = None
    for slot, group in groups:
        for entry in group:
            rows.append(
                _step(ctx, result, wid, entry, ordered, outcomes, after, reasons, force, sp, lookup)
            )
        if slot is not None:
            for at in plan.status_updates_due(kind, slot, previous):
                done = ", ".join(f"{r['name']} {r['status']}" for r in rows) or "no step yet"
                notices.send(
                    ctx,
                    result,
                    sent,
                    f"status {at}",
                    notify.status,
                    notify.StatusParams(
                        window=kind,
                        date=sp.day,
                        message=f"{slot.title} done ({at}); steps so far: {done}"[:1000],
                    ),
                )
            previous = slot
    failed = [
        r["name"]
        for r in rows
        if r["status"] not in (RunStatus.SUCCEEDED.value, RunStatus.SKIPPED.value)
    ]
    if failed:
        notices.send(
            ctx,
            result,
            sent,
            "problem",
            notify.problem,
            notify.ProblemParams(
                window=kind, date=sp.day, what_failed=("failed steps: " + ", ".join(failed))[:500]
            ),
        )
    else:
        skipped = [r["name"] for r in rows if r["status"] == RunStatus.SKIPPED.value]
        note = f"skipped: {', '.join(skipped)}" if skipped else None
        notices.send(
            ctx,
            result,
            sent,
            "all clear",
            notify.all_clear,
            notify.AllClearParams(window=kind, date=sp.day, message=note[:1000] if note else None),
        )
    _blackout_check(result, reasons, force)
    result.figures["steps"] = rows
    result.figures["notices"] = sent
    counts = {
        s: sum(1 for r in rows if r["status"] == s) for s in ("succeeded", "skipped", "failed")
    }
    result.summary = (
        f"{kind.value} window {sp.day.isoformat()} (window run {wid}): {len(rows)} steps, "
        f"{counts['succeeded']} succeeded, {counts['skipped']} skipped, "
        f"{len(rows) - counts['succeeded'] - counts['skipped']} failed"
        + (f" ({', '.join(failed)})" if failed else "")
    )


def _step(
    ctx: RunContext,
    result: Result,
    wid: int,
    entry: Entry,
    ordered: list[Entry],
    outcomes: dict[str, str],
    after: Mapping[str, tuple[str, ...]],
    reasons: list[str],
    force: str | None,
    sp: plan.Span,
    lookup: Lookup,
) -> dict[str, Any]:
    decision = plan.decide(
        entry,
        window_steps=ordered,
        outcomes=outcomes,
        blackouts=reasons,
        force_reason=force,
        now=clock.now(),
        buffer_start=sp.buffer_start,
        after=after,
    )
    row: dict[str, Any] = {"name": entry.name, "task": entry.task, "slot": entry.slot}
    name = f"step {entry.name} ({entry.task})"
    if decision.skip is not None:
        outcomes[entry.name] = RunStatus.SKIPPED.value
        result.check(
            name, False, warn_only=True, observed=f"skipped: {decision.skip}", expected="succeeded"
        )
        return row | {"status": RunStatus.SKIPPED.value, "run_id": None, "reason": decision.skip}
    outcome = runner.execute(
        lookup(entry.task),
        dict(entry.kwargs),
        settings=ctx.settings,
        trigger=Trigger.WINDOW,
        window_run_id=wid,
    )
    status = outcome.status
    outcomes[entry.name] = status.value
    observed = f"{status.value}: {outcome.summary}"
    if status is RunStatus.SKIPPED:
        result.check(name, False, warn_only=True, observed=observed, expected="succeeded")
    else:
        result.check(name, status is RunStatus.SUCCEEDED, observed=observed, expected="succeeded")
    return row | {"status": status.value, "run_id": outcome.run_id, "reason": None}
