"""Beat with one active leader and claimed dispatch (docs/beat.md).

    celery -A tasks beat -S tasks.beat:LeaderScheduler

Two (or more) beats may run. Each asks for leadership every MAINT_BEAT_POLL_INTERVAL_S
(:class:`maintenance.beat.leader.Leadership`: a session advisory lock in the history
database); only the leader sends. Before each send the leader checks its lock's session
and claims the occurrence (entry name, due instant in UTC) in ``beat_dispatches``; only
the claimant sends it, with a Celery task id derived from the occurrence, so even two
leaders (a split brain) send each occurrence once. The claims are beat's state: there is
no schedule file. At start and after a takeover each entry resumes from its newest claim;
occurrences due since then are sent once or recorded ``missed`` by the entry's catch-up
policy (:mod:`maintenance.beat.policy`).

Entry options read here (and removed before the message is sent):

``maint_catch_up``            ``until_next`` (default for fixed times), ``in_window``, ``never``
``maint_catch_up_within_s``   ``in_window``: how long after its due instant it may still start
                              (without it: the schedule's ``catch_up_until(occurrence)``, or
                              the end of the window of the calendar Entry it carries)
``maint_interval``            an elapsed-time entry: never caught up, never recorded missed
                              (default for a plain ``timedelta`` / ``schedule``)

A schedule that knows its exact next instant exposes ``due_after(moment)`` or
``next_after(moment)`` (the calendar's ``tasks.schedule.CalendarSchedule``) -> the first
due instant strictly after ``moment``, aware, or None; stock ``crontab`` and ``schedule``
are computed as Celery does (``remaining_delta``, ``run_every``). Intervals (a
``schedule``, or a calendar Entry with ``every_s``) fall due at multiples of their
length since the epoch, so every beat computes the same instants.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery.beat import Scheduler, _evaluate_entry_args, _evaluate_entry_kwargs
from celery.schedules import crontab
from celery.schedules import schedule as every

from maintenance import clock
from maintenance.beat import claims
from maintenance.beat.leader import Leadership
from maintenance.beat.policy import (
    CatchUp,
    Decision,
    Due,
    decide,
    due_since,
    resume_from,
    window_end,
)
from maintenance.config import get_settings
from maintenance.errors import MaintenanceError
from tasks.base import TRIGGER_HEADER

log = logging.getLogger("tasks.beat")

#: uuid5 namespace of the Celery task ids of beat's occurrences.
OCCURRENCE_NS = uuid.UUID("6f1d9c2e-7c1b-4f6e-9a57-2b8f0f5b4d11")

_OUR_OPTIONS = ("maint_catch_up", "maint_catch_up_within_s", "maint_interval")

#: A claim still ``sending`` this long after it was made belongs to a beat that died
#: between its claim and the broker's answer (a send takes milliseconds).
UNSETTLED_AFTER = timedelta(seconds=5)
#: How often the leader looks for such claims (and once when it takes over).
SETTLE_EVERY_S = 30.0


def occurrence_id(entry: str, when: datetime) -> str:
    """The Celery task id of one occurrence: the same in every beat, so a message sent
    twice despite everything is still one run (the worker claims runs by task id)."""
    return str(uuid.uuid5(OCCURRENCE_NS, f"{entry}|{when.astimezone(UTC).isoformat()}"))


def due_after(sched: Any, moment: datetime) -> datetime | None:
    """The first due instant (UTC) of ``sched`` strictly after ``moment``.

    Exact for a schedule with ``due_after`` / ``next_after`` (the calendar's adapter), for
    ``crontab`` (as
    Celery computes it: ``remaining_delta``) and for an interval (aligned to multiples of
    it since the epoch, so every beat agrees on the instants); otherwise Celery's own
    estimate, to the second.
    """
    moment = moment.astimezone(UTC)
    every_s = getattr(getattr(sched, "entry", None), "every_s", None)
    if every_s:  # the calendar's interval entry: elapsed time, on the shared grid
        return _grid(float(every_s), moment)
    exact = getattr(sched, "due_after", None) or getattr(sched, "next_after", None)
    if callable(exact):
        got = exact(moment)
        return None if got is None else got.astimezone(UTC)
    if isinstance(sched, crontab):
        start, delta, _ = sched.remaining_delta(moment)
        return (start + delta).astimezone(UTC)
    if isinstance(sched, every):
        return _grid(sched.run_every.total_seconds(), moment)
    now = clock.now()
    guess = now + sched.remaining_estimate(moment)
    guess = guess.replace(microsecond=0)
    return max(guess, moment.replace(microsecond=0) + timedelta(seconds=1))


def _grid(step: float, moment: datetime) -> datetime | None:
    """The first multiple of ``step`` seconds since the epoch strictly after ``moment``."""
    if step <= 0:
        return None
    k = math.floor(moment.timestamp() / step) + 1
    return datetime.fromtimestamp(k * step, UTC)


@dataclass(frozen=True)
class Meta:
    """How beat treats one entry's missed occurrences."""

    interval: bool
    catch_up: CatchUp
    within: timedelta | None


def meta_of(entry: Any) -> Meta:
    opts = entry.options or {}
    model = getattr(entry.schedule, "entry", None)  # the calendar's Entry, if any
    interval = opts.get("maint_interval")
    if interval is None:
        if model is not None and hasattr(model, "every_s"):
            interval = model.every_s is not None
        else:
            interval = isinstance(entry.schedule, every) and not isinstance(entry.schedule, crontab)
    policy = opts.get("maint_catch_up") or getattr(model, "catch_up", None)
    if policy is None:
        policy = CatchUp.NEVER if interval else CatchUp.UNTIL_NEXT
    within_s = opts.get("maint_catch_up_within_s")
    return Meta(
        bool(interval),
        CatchUp(policy),
        timedelta(seconds=float(within_s)) if within_s is not None else None,
    )


class _Deposed(Exception):
    """The leader's lock session is gone: stop sending."""


class LeaderScheduler(Scheduler):
    """Celery's Scheduler with leadership, claims and missed runs (no shelve file)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._leader: Leadership | None = None
        self._leading = False
        self._closing = False
        self._last: dict[str, datetime] = {}
        self._next: dict[str, datetime | None] = {}
        self._settled_at = 0.0
        self._resumed = False
        super().__init__(*args, **kwargs)

    # --- Celery's hooks -----------------------------------------------------------------

    def setup_schedule(self) -> None:
        settings = get_settings()
        self._dsn = settings.history_dsn.get_secret_value()
        self._poll = settings.beat_poll_interval_s
        self._on_time = timedelta(seconds=settings.beat_on_time_s)
        self._zone = settings.zone
        self._leader = Leadership(self._dsn, settings.beat_lock_name)
        self.install_default_entries(self.data)
        self.merge_inplace(self.app.conf.beat_schedule)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """One pass: lead (or try to), then send what is due. Returns the sleep."""
        assert self._leader is not None
        try:
            if not self._leading:
                if not self._leader.acquire():
                    return self._poll
                self._leading, self._resumed = True, False
                log.warning("beat: leading now (lock %r)", self._leader.name)
            elif not self._leader.check():
                raise _Deposed
            if not self._resumed:  # again after a failure: nothing is sent before it
                self._resume(clock.now())
                self._resumed = True
            return self._send_due()
        except _Deposed:
            self._stand_down("its lock's session is gone")
            return self._poll
        except MaintenanceError as exc:  # the history database did not answer: send nothing
            log.error("beat: cannot claim occurrences: %s", exc)
            if self._leading and not self._leader.check():
                self._stand_down("its lock's session is gone")
            return self._poll

    def sync(self) -> None:
        """Nothing to write: the claims are the state, written as they are made."""

    def close(self) -> None:
        """Release leadership once. Celery calls this from its TERM/INT handler and again
        as its loop ends; a second signal can call it inside the first call."""
        if self._closing:
            return
        self._closing = True
        try:
            if self._leader is not None and self._leading:
                self._leading = False
                self._leader.release()
        finally:
            super().close()

    @property
    def info(self) -> str:
        settings = get_settings()
        return (
            f"    . leader -> advisory lock {settings.beat_lock_name!r} in the history "
            f"database, standby poll {settings.beat_poll_interval_s:g}s (docs/beat.md)"
        )

    # --- leading ------------------------------------------------------------------------

    def _stand_down(self, why: str) -> None:
        log.error("beat: no longer leading (%s): sending nothing until leadership is back", why)
        self._leading = self._resumed = False
        self._last.clear()
        self._next.clear()

    def _resume(self, now: datetime) -> None:
        """Where each entry stands, from the claims: its newest claimed occurrence. An
        entry never claimed starts from the newest claim of any entry (when a beat last
        demonstrably led), or now on a first start."""
        last = claims.last_claims(self._dsn)
        anchor = max(last.values(), default=now)
        before = claims.last_zone(self._dsn)
        zone_changed = before is not None and before != self._zone.key
        if zone_changed:
            log.warning(
                "beat: MAINT_TIMEZONE changed from %s to %s: every entry starts from now "
                "(nothing in between is sent late or recorded missed)",
                before,
                self._zone.key,
            )
        self._last.clear()
        self._next.clear()
        for entry in self.schedule.values():
            meta = meta_of(entry)
            base = resume_from(last.get(entry.name), anchor, now, zone_changed=zone_changed)
            if meta.interval:  # never caught up: only the occurrence due just now counts
                base = max(base, now - self._on_time - timedelta(microseconds=1))
            self._last[entry.name] = base
            try:
                self._next[entry.name] = due_after(entry.schedule, base)
            except Exception:  # one broken entry must not stop the others
                log.exception("beat: cannot compute the next run of %s", entry.name)
                self._next[entry.name] = None
        self._settle(now)

    def _settle(self, now: datetime) -> None:
        """Occurrences a dead leader claimed but never confirmed sent: sent already (a
        worker recorded the run), sent now (same task id: a worker runs it once however
        many copies arrive) if its catch-up policy still allows, or recorded missed."""
        self._settled_at = time.monotonic()
        assert self._leader is not None
        for name, when, was in claims.unsettled(self._dsn, before=now - UNSETTLED_AFTER):
            entry = self.schedule.get(name)
            if entry is None:
                continue
            if not self._leader.check():
                raise _Deposed
            if not claims.take_over(self._dsn, name, when, was=was):
                continue
            task_id = occurrence_id(name, when)
            if claims.run_recorded(self._dsn, task_id):
                claims.mark(self._dsn, name, when, outcome=claims.SENT, celery_task_id=task_id)
                continue
            meta = meta_of(entry)
            try:
                nxt = due_after(entry.schedule, when)
            except Exception:  # then no deadline from the next run
                log.exception("beat: cannot compute the next run of %s", name)
                nxt = None
            decision = decide(
                Due((when,), nxt),
                policy=meta.catch_up,
                now=now,
                within=self._within(entry, meta, when),
                on_time=self._on_time,
            )
            if decision.send is not None:
                why = f"resent: beat {was} claimed it and died before it was confirmed sent"
                self._publish(entry, when, late=decision.late, reason=why)
            else:
                why = f"beat {was} claimed it and died before it was sent; not caught up: {decision.reason}"
                claims.settle_missed(
                    self._dsn,
                    name,
                    when,
                    task=entry.task,
                    params=dict(entry.kwargs or {}),
                    summary=why,
                )
                log.error("beat: %s due %s recorded missed (%s)", name, when.isoformat(), why)

    def _send_due(self) -> float:
        now = clock.now()
        if time.monotonic() - self._settled_at >= SETTLE_EVERY_S:
            self._settle(now)
        wake = self._poll
        for entry in list(self.schedule.values()):
            nxt = self._next.get(entry.name)
            if nxt is not None and nxt <= now:
                self._fire(entry, now)
                nxt = self._next.get(entry.name)
            if nxt is not None:
                wake = min(wake, (nxt - clock.now()).total_seconds())
        return max(wake, 0.0)

    def _fire(self, entry: Any, now: datetime) -> None:
        meta = meta_of(entry)
        sched = entry.schedule
        nxt: Callable[[datetime], datetime | None] = lambda t: due_after(sched, t)  # noqa: E731
        try:
            due = due_since(nxt, self._last[entry.name], now)
        except Exception:
            log.exception("beat: cannot compute the runs of %s", entry.name)
            self._next[entry.name] = None
            return
        within = self._within(entry, meta, due.occurrences[-1]) if due.occurrences else None
        decision = decide(due, policy=meta.catch_up, now=now, within=within, on_time=self._on_time)
        if not self._leader or not self._leader.check():
            raise _Deposed
        if decision.missed and not meta.interval:
            self._record_missed(entry, decision, due.uncounted)
        if decision.send is not None:
            self._send(entry, decision.send, late=decision.late, reason=decision.reason)
        if due.occurrences:
            self._last[entry.name] = due.occurrences[-1]
        self._next[entry.name] = due.next_due

    def _within(self, entry: Any, meta: Meta, occurrence: datetime) -> timedelta | None:
        """How long after ``occurrence`` an ``in_window`` entry may still start."""
        if meta.within is not None or meta.catch_up is not CatchUp.IN_WINDOW:
            return meta.within
        deadline = self._window_deadline(entry, occurrence)
        return None if deadline is None else deadline - occurrence

    def _window_deadline(self, entry: Any, occurrence: datetime) -> datetime | None:
        """Until when a window step due at ``occurrence`` may still start: the schedule's
        own answer (``catch_up_until``), else the end of the calendar Entry's window."""
        own = getattr(entry.schedule, "catch_up_until", None)
        if callable(own):
            got = own(occurrence)
            return None if got is None else got.astimezone(UTC)
        kind = getattr(getattr(entry.schedule, "entry", None), "window", None)
        return window_end(kind, occurrence, self._zone) if kind else None

    def _record_missed(self, entry: Any, decision: Decision, uncounted: int) -> None:
        if decision.send is not None:
            why = f"beat was not sending then; the one due {decision.send:%Y-%m-%d %H:%M:%SZ} ran instead"
        else:
            why = f"beat was not sending then; not caught up: {decision.reason}"
        if uncounted:
            log.error(
                "beat: %s missed %d more runs before these (not recorded)", entry.name, uncounted
            )
        ids = claims.record_missed(
            self._dsn,
            entry.name,
            decision.missed,
            task=entry.task,
            params=dict(entry.kwargs or {}),
            summary=why,
        )
        if ids:
            log.error("beat: %s: %d run(s) recorded missed (%s)", entry.name, len(ids), why)

    def _send(self, entry: Any, when: datetime, *, late: bool, reason: str) -> None:
        assert self._leader is not None
        if not self._leader.check():
            raise _Deposed
        if not claims.claim(
            self._dsn, entry.name, when, task=entry.task, late=late, zone=self._zone.key
        ):
            log.warning(
                "beat: %s due %s was already claimed by another beat: not sent",
                entry.name,
                when.isoformat(),
            )
            return
        self._publish(entry, when, late=late, reason=reason)

    def _publish(self, entry: Any, when: datetime, *, late: bool, reason: str) -> None:
        """Send one claimed occurrence and record how that went."""
        task_id = occurrence_id(entry.name, when)
        options = {k: v for k, v in (entry.options or {}).items() if k not in _OUR_OPTIONS}
        headers = dict(options.get("headers") or {})
        headers.setdefault(TRIGGER_HEADER, "beat")
        headers["celery_beat_task"] = True
        options["headers"] = headers
        options["task_id"] = task_id
        args = _evaluate_entry_args(entry.args)
        kwargs = _evaluate_entry_kwargs(entry.kwargs)
        try:
            task = self.app.tasks.get(entry.task)
            if task is not None:
                task.apply_async(args, kwargs, producer=self.producer, **options)
            else:
                self.app.send_task(entry.task, args, kwargs, producer=self.producer, **options)
        except Exception as exc:  # the broker refused: recorded, never silently dropped
            log.exception("beat: could not send %s due %s", entry.name, when.isoformat())
            claims.record_failed_send(
                self._dsn, entry.name, when, task=entry.task, params=kwargs, error=exc
            )
            return
        entry.last_run_at = when
        entry.total_run_count += 1
        claims.mark(
            self._dsn, entry.name, when, outcome=claims.SENT, celery_task_id=task_id, late=late
        )
        log.info(
            "beat: sent %s (%s) due %s%s, id %s",
            entry.name,
            entry.task,
            when.isoformat(),
            f" late: {reason}" if late else "",
            task_id,
        )
