"""Diagnostic tasks for operators: prove the pipeline works end to end.

``diag.hold`` occupies one worker slot for a given time while heartbeating, under the
singleton lock. On-call uses it to check that a worker picks work up, that a second
copy of an exclusive task is skipped, and that a killed worker's run turns ``lost``.
"""

from __future__ import annotations

import time

from pydantic import Field

from maintenance import clock
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


class HoldParams(Params):
    seconds: float = Field(10, gt=0, le=3600, description="How long to hold the slot.")


def hold(ctx: RunContext, params: HoldParams) -> Result:
    t0 = clock.monotonic()
    deadline = t0 + params.seconds
    while (left := deadline - clock.monotonic()) > 0:
        time.sleep(min(left, 0.5))
    held = clock.monotonic() - t0
    result = Result(summary=f"held the slot for {held:.1f}s")
    result.check(
        "held for the requested time",
        held >= params.seconds,
        observed=round(held, 2),
        expected=params.seconds,
    )
    result.figures = {"held_s": round(held, 3)}
    return result
