"""The Celery app with a test calendar, for beat subprocesses:

    celery -A tests.beat_app beat -S tasks.beat:LeaderScheduler

The calendar comes from MAINT_TEST_BEAT_CALENDAR (JSON): ``{name: {task, kwargs, every_s,
offset_s, catch_up, within_s, interval, queue}}``. Each entry falls due every ``every_s``
seconds (at multiples of it since the epoch, plus ``offset_s``), through a schedule that
gives its exact next instant (``due_after``), as the calendar's adapter does.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, schedstate

from tasks.app import app


class EverySeconds(BaseSchedule):
    def __init__(self, seconds: float, offset: float = 0.0) -> None:
        super().__init__()
        self.seconds, self.offset = float(seconds), float(offset)

    def due_after(self, moment: datetime) -> datetime:
        k = math.floor((moment.timestamp() - self.offset) / self.seconds) + 1
        return datetime.fromtimestamp(k * self.seconds + self.offset, UTC)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        return self.due_after(last_run_at) - datetime.now(UTC)

    def is_due(self, last_run_at: datetime) -> Any:
        left = self.remaining_estimate(last_run_at).total_seconds()
        return schedstate(left <= 0, max(left, 0) or self.seconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EverySeconds) and (self.seconds, self.offset) == (
            other.seconds,
            other.offset,
        )

    def __repr__(self) -> str:
        return f"<every {self.seconds:g}s +{self.offset:g}>"


def calendar(spec: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, e in spec.items():
        options: dict[str, Any] = {"headers": {"maint_trigger": "beat"}}
        if e.get("catch_up"):
            options["maint_catch_up"] = e["catch_up"]
        if e.get("within_s") is not None:
            options["maint_catch_up_within_s"] = e["within_s"]
        if e.get("interval"):
            options["maint_interval"] = True
        if e.get("queue"):
            options["queue"] = e["queue"]
        out[name] = {
            "task": e["task"],
            "schedule": EverySeconds(e["every_s"], e.get("offset_s", 0)),
            "kwargs": e.get("kwargs", {}),
            "options": options,
        }
    return out


app.conf.beat_schedule = calendar(json.loads(os.environ.get("MAINT_TEST_BEAT_CALENDAR", "{}")))
