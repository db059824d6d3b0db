"""``cache.flush``: the playbook's "Full clear (only during maintenance window)".

``FLUSHDB ASYNC`` of the cache's own database index, never ``FLUSHALL`` and never the
broker's (:func:`.client.open_cache` refuses that first). Three conditions, all checked
before anything is deleted, each a bad-input refusal that names what is missing:

* ``confirm=true``: the playbook's "Are you sure? Yes, I understand the consequences";
* inside a maintenance window (the run is a window's step: it has a window run id or the
  ``window`` trigger), or ``force_reason`` saying why not. There is no window calendar
  yet, so outside a window's own run a person must give the reason; it is recorded in
  the run's parameters and summary.

``dry_run=true`` counts the keys (``DBSIZE``) and deletes nothing; it needs neither.
"""

from __future__ import annotations

from pydantic import Field

from maintenance.cache import client as cache_client
from maintenance.errors import ParamError
from maintenance.results import Result, Trigger
from maintenance.taskspec import Params, RunContext, window_authority


class FlushParams(Params):
    confirm: bool = Field(False, description="Must be true: every key of the cache database goes.")
    force_reason: str | None = Field(
        None,
        min_length=3,
        max_length=500,
        description="Why the cache is flushed outside a maintenance window (recorded).",
    )
    dry_run: bool = Field(False, description="Count the keys (DBSIZE); delete nothing.")


def authority(trigger: Trigger, window_run_id: int | None, params: FlushParams) -> str:
    """What allows this flush, or ParamError naming what is missing (pure)."""
    if not params.confirm:
        raise ParamError(
            "cache.flush: confirm=true is required: FLUSHDB deletes every key of the "
            "cache database (dry_run=true counts them first)"
        )
    allowed = window_authority(trigger, window_run_id, params.force_reason)
    if allowed is not None:
        return allowed
    raise ParamError(
        "cache.flush: outside a maintenance window a flush needs force_reason (why it "
        "cannot wait for the window; it is recorded)"
    )


def flush(ctx: RunContext, params: FlushParams) -> Result:
    """FLUSHDB ASYNC of the cache's database, when allowed (module text)."""
    allowed = None if params.dry_run else authority(ctx.trigger, ctx.window_run_id, params)
    cache = cache_client.open_cache(ctx.settings)
    try:
        with cache_client.answering(cache.url):
            before = int(cache.client.dbsize())
            if not params.dry_run:
                cache.client.flushdb(asynchronous=True)
            after = int(cache.client.dbsize())
    finally:
        cache.client.close()
    result = Result()
    result.check(
        "cache is not Celery's database", True, observed=cache.guard, expected="its own db"
    )
    result.figures = {
        "cache": str(cache.endpoint),
        "dry_run": params.dry_run,
        "keys_before": before,
        "keys_after": after,
        "authority": allowed,
    }
    if params.dry_run:
        result.check("keys counted", True, observed=before, expected="nothing deleted")
        result.summary = f"dry run: a flush of {cache.endpoint} would delete {before:,} keys"
        return result
    result.check("flush allowed", True, observed=allowed, expected="a window, or a reason")
    result.check(
        "database flushed",
        True,
        observed=f"{before:,} keys before, {after:,} after",
        expected="FLUSHDB ASYNC of this db only",
        detail=None if after == 0 else "keys written since the flush (the application is running)",
    )
    result.summary = f"flushed {cache.endpoint}: {before:,} keys deleted ({allowed})"
    return result
