"""test.smoke and test.baseline: send the configured requests (send), judge them (judge),
and for the baseline compare with the trailing weeks' runs (record)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from maintenance import clock, redact
from maintenance.config.smoke import BASELINE_BUDGET_S
from maintenance.errors import ParamError
from maintenance.results import Result
from maintenance.smoketest import judge, record
from maintenance.smoketest.send import send_all
from maintenance.taskspec import NoParams, Params, RunContext


class BaselineParams(Params):
    repeat: int = Field(
        3,
        ge=1,
        le=20,
        description="Times each request is sent; its baseline is the median of them.",
    )


def _smoke(ctx: RunContext, repeat: int) -> tuple[Result, dict[str, float | None]]:
    s = ctx.settings
    answers = send_all(s.api_url, s.smoke_requests, s.smoke_timeout_s, repeat)
    result = Result(
        checks=[
            judge.smoke_check(req, got, s.smoke_timeout_s)
            for req, got in zip(s.smoke_requests, answers, strict=True)
        ]
    )
    times = judge.timings(s.smoke_requests, answers)
    result.figures = {
        "api_url": redact.mask_url(s.api_url),
        "timeout_s": s.smoke_timeout_s,
        "repeat": repeat,
        "requests": [
            judge.request_figures(req, got)
            for req, got in zip(s.smoke_requests, answers, strict=True)
        ],
        "timings_ms": times,
    }
    return result, times


def _summary(result: Result) -> str:
    n, bad = len(result.figures["requests"]), [c.name for c in result.failed]
    shown = ", ".join(
        f"{r['name']} {r['median_ms']:g} ms" for r in result.figures["requests"] if r["ok"]
    )
    if bad:
        return f"{len(bad)} of {n} smoke checks failed: {', '.join(bad)}" + (
            f"; {shown}" if shown else ""
        )
    return f"{n} smoke checks passed: {shown}"


def smoke(ctx: RunContext, params: NoParams) -> Result:
    """The application's smoke checks against MAINT_API_URL, each timed."""
    result, _ = _smoke(ctx, 1)
    result.summary = _summary(result)
    return result


def baseline(ctx: RunContext, params: BaselineParams) -> Result:
    """The smoke requests' response times, recorded as this week's performance baseline
    and compared with the medians of the trailing MAINT_SMOKE_BASELINE_WEEKS weeks."""
    s = ctx.settings
    worst = params.repeat * len(s.smoke_requests) * s.smoke_timeout_s
    if worst > BASELINE_BUDGET_S:
        raise ParamError(
            f"test.baseline: repeat {params.repeat} x {len(s.smoke_requests)} requests x "
            f"{s.smoke_timeout_s:g} s is {worst:g} s if every request times out, more than "
            f"{BASELINE_BUDGET_S} s: send them fewer times"
        )
    now = clock.now()
    result, times = _smoke(ctx, params.repeat)
    policy = judge.Policy(s.smoke_baseline_weeks, s.smoke_regression_pct, s.smoke_regression_min_ms)
    earlier = record.previous(
        s.history_dsn.get_secret_value(),
        since=now - timedelta(weeks=policy.weeks),
        before=now,
        exclude=ctx.run_id,
    )
    comparisons = judge.compare(times, earlier, policy)
    result.checks.extend(judge.baseline_check(c, policy) for c in comparisons)
    result.figures["baseline"] = {
        "weeks": policy.weeks,
        "regression_pct": policy.regression_pct,
        "min_ms": policy.min_ms,
        "previous_runs": [p.run_id for p in earlier],
        "comparisons": [c.to_dict() for c in comparisons],
    }
    slower = [c.name for c in comparisons if c.verdict == "regression"]
    first = all(c.verdict in ("no_baseline", "not_measured") for c in comparisons)
    tail = (
        f"; slower than the {policy.weeks}-week baseline: {', '.join(slower)}"
        if slower
        else "; no baseline yet: this is the first"
        if first
        else f"; within the {policy.weeks}-week baseline ({len(earlier)} earlier run(s))"
    )
    result.summary = _summary(result) + tail
    return result
