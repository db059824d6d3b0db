"""What the smoke answers mean (pure): the smoke checklist, and the comparison of this
week's response times with the trailing weeks' baselines."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maintenance.config.smoke import SmokeRequest
from maintenance.results import Check, CheckStatus
from maintenance.smoketest.send import Answer


def problems(req: SmokeRequest, answer: Answer) -> list[str]:
    """What is wrong with one answer to ``req`` (none: it passed)."""
    if answer.problem:
        return [answer.problem]
    out = []
    if answer.status_code != req.status:
        out.append(f"HTTP {answer.status_code}, expected {req.status}")
    if req.keys:
        if answer.keys is None:
            out.append(answer.body_note or "no JSON object")
        else:
            missing = [k for k in req.keys if k not in answer.keys]
            if missing:
                out.append(f"missing key(s) {', '.join(missing)}")
    return out


def expected(req: SmokeRequest, timeout_s: float) -> str:
    keys = f", keys {', '.join(req.keys)}" if req.keys else ""
    return f"HTTP {req.status}{keys}, within {timeout_s:g} s"


def median_ms(answers: Sequence[Answer]) -> float:
    return round(statistics.median(a.elapsed_ms for a in answers), 1)


def smoke_check(req: SmokeRequest, answers: Sequence[Answer], timeout_s: float) -> Check:
    """One line of the checklist: every answer to ``req`` right, with its time."""
    wrong = [p for a in answers for p in problems(req, a)]
    last = answers[-1]
    took = f"{median_ms(answers):g} ms" + (
        f" (median of {len(answers)})" if len(answers) > 1 else ""
    )
    if wrong:
        observed = "; ".join(dict.fromkeys(wrong)) + f" after {took}"
    else:
        observed = f"HTTP {last.status_code} in {took}"
    return Check(
        f"{req.name}: {req.method} {req.path}",
        CheckStatus.FAIL if wrong else CheckStatus.PASS,
        observed,
        expected(req, timeout_s),
    )


def request_figures(req: SmokeRequest, answers: Sequence[Answer]) -> dict[str, Any]:
    wrong = [p for a in answers for p in problems(req, a)]
    return {
        "name": req.name,
        "method": req.method,
        "path": req.path,
        "expected_status": req.status,
        "expected_keys": list(req.keys),
        "status_code": answers[-1].status_code,
        "elapsed_ms": [a.elapsed_ms for a in answers],
        "median_ms": median_ms(answers),
        "ok": not wrong,
        "problems": list(dict.fromkeys(wrong)),
    }


def timings(
    requests: Sequence[SmokeRequest], answers: Sequence[Sequence[Answer]]
) -> dict[str, float | None]:
    """Per request, the median time of its answers; None when one was wrong (the time of
    a wrong answer, an error page or a timeout, is no baseline)."""
    return {
        req.name: None if any(problems(req, a) for a in got) else median_ms(got)
        for req, got in zip(requests, answers, strict=True)
    }


# --- the baseline ----------------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """An earlier test.baseline run: its time and its per-request timings."""

    run_id: int
    at: datetime
    timings: dict[str, float | None]


@dataclass(frozen=True)
class Policy:
    weeks: int = 4
    regression_pct: float = 50.0
    min_ms: float = 20.0


@dataclass(frozen=True)
class Comparison:
    name: str
    current_ms: float | None
    median_ms: float | None
    samples: int  # earlier baselines that measured this request
    change_pct: float | None
    verdict: str  # no_baseline | ok | regression | not_measured

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "current_ms": self.current_ms,
            "median_ms": self.median_ms,
            "samples": self.samples,
            "change_pct": self.change_pct,
            "verdict": self.verdict,
        }


def compare(
    current: dict[str, float | None], previous: Sequence[Previous], policy: Policy
) -> list[Comparison]:
    """Each request's time against the median of its earlier baselines (the runs given:
    the caller picks the trailing weeks). A regression is a time more than
    ``regression_pct`` above the median and at least ``min_ms`` slower."""
    out = []
    for name, now_ms in current.items():
        seen = [t for p in previous if (t := p.timings.get(name)) is not None]
        if now_ms is None:
            out.append(Comparison(name, None, _median(seen), len(seen), None, "not_measured"))
            continue
        if not seen:
            out.append(Comparison(name, now_ms, None, 0, None, "no_baseline"))
            continue
        med = _median(seen)
        assert med is not None
        change = round((now_ms - med) / med * 100, 1) if med > 0 else None
        slower = now_ms - med
        regressed = slower >= policy.min_ms and (
            med <= 0 or now_ms > med * (1 + policy.regression_pct / 100)
        )
        out.append(
            Comparison(name, now_ms, med, len(seen), change, "regression" if regressed else "ok")
        )
    return out


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def baseline_check(c: Comparison, policy: Policy) -> Check:
    name = f"{c.name}: response time against the {policy.weeks}-week baseline"
    want = (
        f"at most {policy.regression_pct:g}% (and {policy.min_ms:g} ms) above the median "
        f"of the last {policy.weeks} weeks' baselines"
    )
    if c.verdict == "no_baseline":
        return Check(name, CheckStatus.PASS, f"no baseline yet: {c.current_ms:g} ms recorded", want)
    if c.verdict == "not_measured":
        return Check(name, CheckStatus.WARN, "not measured: the request failed (see above)", want)
    sign = "+" if (c.change_pct or 0) >= 0 else ""
    change = f" ({sign}{c.change_pct:g}%)" if c.change_pct is not None else ""
    observed = f"{c.current_ms:g} ms against a median of {c.median_ms:g} ms{change} over {c.samples} baseline(s)"
    if c.verdict == "regression":
        return Check(
            name, CheckStatus.WARN, observed, want, "slower than the baseline: a regression"
        )
    return Check(name, CheckStatus.PASS, observed, want)
