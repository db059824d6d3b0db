"""The forecast of one series (pure): least-squares growth, the date it crosses its limit,
and what to say about it.

A series is readings over time (database size, a backup tier's bytes, free disk, Redis
memory) with a limit it grows towards (``direction="up"``, a ceiling) or falls towards
(``"down"``, a floor: free space). Readings are reduced to one point per UTC day first
(the day's worst: the largest for a ceiling, the smallest for a floor), so that a day of
5-minute samples weighs as much as one nightly run. Nothing here reads a clock or a
database: ``forecast(series, policy, now)``.

Plain Python, not numpy (not a dependency): ordinary least squares on (days since the
first point, value). A slope within two standard errors of zero is no trend: noise on a
flat series must not become a crossing date centuries away, or next month.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Direction = Literal["up", "down"]
DAY_S = 86400.0
#: Beyond this a crossing date says nothing useful (and datetime would overflow).
FAR_DAYS = 100 * 365.0

#: verdict -> the check's status (docs/capacity.md, /work/plan/i13-capacity-shape.md)
STATUS = {
    "over": "fail",
    "warn": "warn",
    "ok": "pass",
    "never": "pass",
    "no_limit": "pass",
    "not_enough_data": "warn",
    "unreadable": "warn",
}


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Series:
    """What was read for one series: its readings and its limit (None: no limit known)."""

    key: str
    label: str
    direction: Direction
    points: Sequence[Point]
    limit: float | None
    limit_source: str
    source: str
    unit: str = "bytes"
    #: Why the series could not be read (whole or in part): said in the note.
    problems: tuple[str, ...] = ()
    #: Said after the verdict (e.g. "the history is short: only a current reading").
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    warn_days: float = 90.0
    min_points: int = 4
    min_span_days: float = 14.0


@dataclass(frozen=True)
class Fit:
    """``value(t) = intercept + slope_per_day * days(t - t0)``."""

    t0: datetime
    intercept: float
    slope_per_day: float
    r2: float | None
    #: Standard error of the slope (None with two points: a line through them is exact).
    slope_se: float | None
    n: int

    def value_at(self, moment: datetime) -> float:
        return self.intercept + self.slope_per_day * _days(moment - self.t0)

    def reaches(self, level: float) -> datetime | None:
        """When the line is at ``level``; None if it is flat."""
        if self.slope_per_day == 0:
            return None
        days = (level - self.intercept) / self.slope_per_day
        if not math.isfinite(days) or abs(days) > FAR_DAYS:
            return None
        return self.t0 + timedelta(days=days)

    @property
    def significant(self) -> bool:
        """Whether the slope is more than noise (two standard errors from zero)."""
        if self.slope_per_day == 0:
            return False
        if self.slope_se is None:
            return True
        return abs(self.slope_per_day) > 2 * self.slope_se


@dataclass(frozen=True)
class Forecast:
    series: Series
    points: list[Point]
    fit: Fit | None
    crossing_at: datetime | None
    days_left: float | None
    verdict: str
    note: str
    current: float | None = None

    @property
    def status(self) -> str:
        return STATUS[self.verdict]

    @property
    def span_days(self) -> float:
        return _days(self.points[-1].at - self.points[0].at) if self.points else 0.0

    def to_dict(self) -> dict[str, Any]:
        s, f = self.series, self.fit
        return {
            "key": s.key,
            "label": s.label,
            "unit": s.unit,
            "direction": s.direction,
            "limit": _num(s.limit),
            "limit_source": s.limit_source,
            "source": s.source,
            "points": [[iso(p.at), _num(p.value)] for p in self.points],
            "n_points": len(self.points),
            "first_at": iso(self.points[0].at) if self.points else None,
            "last_at": iso(self.points[-1].at) if self.points else None,
            "span_days": round(self.span_days, 1),
            "current": _num(self.current),
            "slope_per_day": None if f is None else round(f.slope_per_day, 3),
            "r2": None if f is None or f.r2 is None else round(f.r2, 4),
            "crossing_at": iso(self.crossing_at) if self.crossing_at else None,
            "days_left": None if self.days_left is None else round(self.days_left, 1),
            "verdict": self.verdict,
            "status": self.status,
            "note": self.note,
        }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / DAY_S


def daily(points: Iterable[Point], direction: Direction) -> list[Point]:
    """One point per UTC day, oldest first: the day's largest reading for a ceiling, its
    smallest for a floor (the worst of the day), at the time it was read."""
    best: dict[Any, Point] = {}
    for p in points:
        day = p.at.astimezone(UTC).date()
        held = best.get(day)
        worse = held is None or (
            p.value > held.value if direction == "up" else p.value < held.value
        )
        if worse:
            best[day] = p
    return [best[d] for d in sorted(best)]


def least_squares(points: Sequence[Point]) -> Fit | None:
    """The ordinary least-squares line through ``points``; None with fewer than two
    points or all at one instant."""
    n = len(points)
    if n < 2:
        return None
    t0 = points[0].at
    xs = [_days(p.at - t0) for p in points]
    ys = [float(p.value) for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = None if syy == 0 else max(0.0, 1 - ss_res / syy)
    se = math.sqrt(ss_res / (n - 2) / sxx) if n > 2 else None
    return Fit(t0, intercept, slope, r2, se, n)


def amount(value: float, unit: str) -> str:
    """A value for people: bytes in decimal GB/MB (the playbook's budgets are GB)."""
    if unit != "bytes":
        return f"{value:,.1f} {unit}"
    for size, name in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(value) >= size * 0.9995:  # 999,999,999.9 bytes is "1.0 GB", not "1000.0 MB"
            return f"{value / size:.1f} {name}"
    return f"{value:.0f} B"


def rate(slope_per_day: float, unit: str) -> str:
    sign = "+" if slope_per_day >= 0 else "-"
    return f"{sign}{amount(abs(slope_per_day) * 7, unit)}/week"


def forecast(series: Series, policy: Policy, now: datetime) -> Forecast:
    """What ``series`` is heading for (module text). Pure."""
    pts = daily(series.points, series.direction)
    current = pts[-1].value if pts else None
    tail = "".join(f"; {r}" for r in series.remarks)

    def done(
        verdict: str,
        note: str,
        fit: Fit | None = None,
        crossing_at: datetime | None = None,
        days_left: float | None = None,
    ) -> Forecast:
        return Forecast(series, pts, fit, crossing_at, days_left, verdict, note + tail, current)

    if not pts:
        why = "; ".join(series.problems) or "nothing recorded yet"
        return done("unreadable", f"no readings: {why}")
    limit = series.limit
    up = series.direction == "up"
    now_value = pts[-1].value
    if limit is not None and (now_value >= limit if up else now_value <= limit):
        word = "above" if up else "below"
        return done(
            "over",
            f"already {word} the limit: {amount(now_value, series.unit)} against "
            f"{amount(limit, series.unit)} ({series.limit_source})",
            crossing_at=pts[-1].at,
            days_left=0.0,
        )
    span = _days(pts[-1].at - pts[0].at)
    if len(pts) < policy.min_points or span < policy.min_span_days:
        return done(
            "not_enough_data",
            f"not enough data: {len(pts)} daily point(s) over {span:.0f} day(s), a forecast "
            f"needs {policy.min_points} over {policy.min_span_days:g} days; now "
            f"{amount(pts[-1].value, series.unit)}",
        )
    fit = least_squares(pts)
    assert fit is not None  # at least two points on different days
    trend = rate(fit.slope_per_day, series.unit)
    if limit is None:
        return done(
            "no_limit",
            f"{trend}, now {amount(pts[-1].value, series.unit)}; no limit: {series.limit_source}",
            fit=fit,
        )
    towards = fit.slope_per_day > 0 if up else fit.slope_per_day < 0
    if not fit.significant or not towards:
        why = (
            "flat"
            if fit.slope_per_day == 0
            else "no clear trend"
            if not fit.significant
            else ("shrinking" if up else "growing")
        )
        return done(
            "never",
            f"{why} ({trend}): does not reach {amount(limit, series.unit)} ({series.limit_source})",
            fit=fit,
        )
    crossing = fit.reaches(limit)
    if crossing is None:
        return done(
            "never",
            f"{trend}: does not reach {amount(limit, series.unit)} within a century",
            fit=fit,
        )
    days_left = max(0.0, _days(crossing - now))
    when = crossing.astimezone(UTC).date().isoformat()
    verdict = "warn" if days_left < policy.warn_days else "ok"
    return done(
        verdict,
        f"{'falls to' if not up else 'crosses'} {amount(limit, series.unit)} on {when} "
        f"({days_left:.0f} days), {trend}",
        fit=fit,
        crossing_at=max(crossing, now) if days_left == 0 else crossing,
        days_left=days_left,
    )
