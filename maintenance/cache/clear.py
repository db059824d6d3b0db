"""``cache.clear_pattern`` and ``cache.clear``: deleting cache keys by name, gently.

``cache.clear_pattern(pattern)`` deletes the keys Redis's own ``SCAN MATCH`` selects
(:mod:`.sweep`), batch by batch with pauses, and counts them; ``dry_run`` counts only.
A pattern that selects keys by shape rather than name (``*``, ``?*`` ...) is bad input
(:func:`.patterns.too_broad`): the whole cache goes only through ``cache.flush``.

``cache.clear`` is the playbook's "safe cache clearing (gradual)", in its order:

1. ``swaps:*``, any time;
2. ``schedule:*``, only when the API's health reports no active operations
   (``active_operations`` 0 or empty); otherwise, or when the API does not say, the step
   is skipped with the reason (the playbook's script tests ``jq``'s exit status, which is
   0 whatever the count: it clears during active operations);
3. ``report:*``.

The prefixes are settings and are taken literally (a ``*`` in one is a character).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from maintenance import api
from maintenance.cache import client as cache_client
from maintenance.cache import patterns, sweep
from maintenance.config import Settings
from maintenance.logs_setup import get_logger
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext

log = get_logger("maint.cache")


class ClearPatternParams(Params):
    pattern: str = Field(
        ...,
        description="A Redis glob (SCAN MATCH): '*' any run, '?' one character, '[..]' a "
        "class, '\\' escapes. Must name keys: '*', '?*' ... are refused.",
    )
    dry_run: bool = Field(False, description="Count the matching keys; delete nothing.")

    @field_validator("pattern")
    @classmethod
    def _by_name(cls, value: str) -> str:
        problem = patterns.too_broad(value)
        if problem:
            raise ValueError(problem)
        return value


class ClearParams(Params):
    dry_run: bool = Field(False, description="Count what each step would delete; delete nothing.")


def pace_of(settings: Settings) -> sweep.Pace:
    return sweep.Pace.of(
        settings.cache_scan_count, settings.cache_batch_ms, settings.cache_pause_ms
    )


#: How a task pauses between batches: the seam a test watches to see the sweep yield.
pause: Callable[[float], None] = time.sleep


def _sweep(
    cache: cache_client.Cache, pattern: str, dry_run: bool, settings: Settings
) -> sweep.Sweep:
    with cache_client.answering(cache.url):
        done = sweep.sweep(
            cache.client, pattern, delete=not dry_run, pace=pace_of(settings), pause=pause
        )
    log.info("cache.swept", **done.to_dict(), cache=str(cache.endpoint))
    return done


def _batches(done: sweep.Sweep) -> str:
    return f"{done.batches:,} batch" + ("" if done.batches == 1 else "es")


def _dbsize(cache: cache_client.Cache) -> int:
    with cache_client.answering(cache.url):
        return int(cache.client.dbsize())


def clear_pattern(ctx: RunContext, params: ClearPatternParams) -> Result:
    """Delete (or count) the keys matching ``params.pattern`` in the cache's database."""
    cache = cache_client.open_cache(ctx.settings)
    try:
        before = _dbsize(cache)
        done = _sweep(cache, params.pattern, params.dry_run, ctx.settings)
        after = _dbsize(cache)
    finally:
        cache.client.close()
    result = Result()
    result.check(
        "cache is not Celery's database", True, observed=cache.guard, expected="its own db"
    )
    if params.dry_run:
        result.check(
            "keys matching counted", True, observed=done.matched, expected="nothing deleted"
        )
        result.summary = (
            f"dry run: {done.matched:,} keys match {params.pattern!r} in {cache.endpoint} "
            f"(nothing deleted; {_batches(done)})"
        )
    else:
        result.check(
            "keys matching deleted",
            True,
            observed=f"{done.deleted:,} deleted ({done.matched:,} returned by SCAN)",
            expected="every key SCAN MATCH selects",
        )
        result.summary = (
            f"deleted {done.deleted:,} keys matching {params.pattern!r} from {cache.endpoint} "
            f"in {done.seconds:.1f} s ({_batches(done)})"
        )
    result.figures = {
        "cache": str(cache.endpoint),
        **done.to_dict(),
        "keys_before": before,
        "keys_after": after,
    }
    return result


# --- the gradual clear ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    pattern: str
    #: Only when the API reports no active operations.
    gated: bool = False


def plan(settings: Settings) -> list[Step]:
    """The playbook's order (pure)."""
    return [
        Step("swaps", patterns.prefix_pattern(settings.cache_swaps_prefix)),
        Step("schedule", patterns.prefix_pattern(settings.cache_schedule_prefix), gated=True),
        Step("report", patterns.prefix_pattern(settings.cache_report_prefix)),
    ]


def schedule_gate(health: api.Health) -> tuple[bool, str]:
    """Whether the schedule step may run, and why (pure): only on an answer that says
    ``active_operations`` is 0 (or an empty list)."""
    if health.status_code != 200 or health.body is None:
        return False, f"the API's health did not say ({health.observed})"
    if "active_operations" not in health.body:
        return False, "the API's health does not report active_operations"
    value = health.body["active_operations"]
    if isinstance(value, bool) or not isinstance(value, int | list | dict):
        return False, f"the API's health reports active_operations={value!r}, not a count"
    count = len(value) if isinstance(value, list | dict) else value
    if count == 0:
        return True, "the API reports no active operations"
    return False, f"the API reports {count} active operation(s)"


def clear(ctx: RunContext, params: ClearParams) -> Result:
    """swaps:*, then schedule:* when the API allows it, then report:* (module text)."""
    settings = ctx.settings
    result = Result()
    steps: list[dict[str, Any]] = []
    cache = cache_client.open_cache(settings)
    try:
        result.check(
            "cache is not Celery's database", True, observed=cache.guard, expected="its own db"
        )
        for step in plan(settings):
            if step.gated:
                health = api.probe(settings.api_url, settings.cache_health_path)
                allowed, reason = schedule_gate(health)
                if not allowed:
                    result.check(
                        f"{step.pattern} cleared",
                        False,
                        warn_only=True,
                        observed=f"skipped: {reason}",
                        expected="no active operations",
                    )
                    steps.append(
                        {
                            "step": step.name,
                            "pattern": step.pattern,
                            "status": "skipped",
                            "reason": reason,
                        }
                    )
                    continue
            done = _sweep(cache, step.pattern, params.dry_run, settings)
            verb = "would delete" if params.dry_run else "deleted"
            count = done.matched if params.dry_run else done.deleted
            result.check(
                f"{step.pattern} cleared", True, observed=f"{verb} {count:,}", expected="done"
            )
            steps.append(
                {"step": step.name, "status": "dry run" if params.dry_run else "done"}
                | done.to_dict()
            )
    finally:
        cache.client.close()
    result.figures = {"cache": str(cache.endpoint), "dry_run": params.dry_run, "steps": steps}
    result.summary = ("dry run: " if params.dry_run else "") + "; ".join(
        _step_line(s) for s in steps
    )
    return result


def _step_line(step: dict[str, Any]) -> str:
    if step["status"] == "skipped":
        return f"{step['pattern']} skipped ({step['reason']})"
    if step["status"] == "dry run":
        return f"{step['pattern']} {step['matched']:,} match"
    return f"{step['pattern']} {step['deleted']:,} deleted"
