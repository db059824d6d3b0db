"""capacity.fit: forecasts against series with known slopes (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from maintenance.capacity.fit import (
    Point,
    Policy,
    Series,
    daily,
    forecast,
    least_squares,
)

GB = 1e9
START = datetime(2026, 1, 4, 23, 0, tzinfo=UTC)  # a Sunday
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(warn_days=90, min_points=4, min_span_days=14)


def series(points: list[Point], limit: float | None = 100 * GB, direction: str = "up") -> Series:
    return Series(
        key="backup_tier:weekly",
        label="backups, weekly tier",
        direction="down" if direction == "down" else "up",
        points=points,
        limit=limit,
        limit_source="test",
        source="test",
    )


def weekly(first: float, per_week: float, weeks: int, noise: float = 0.0) -> list[Point]:
    rnd = random.Random(7)
    return [
        Point(START + timedelta(weeks=k), first + per_week * k + rnd.uniform(-noise, noise))
        for k in range(weeks)
    ]


def test_least_squares_recovers_a_known_line() -> None:
    pts = [Point(START + timedelta(days=d), 5.0 + 2.5 * d) for d in range(10)]
    fit = least_squares(pts)
    assert fit is not None
    assert fit.slope_per_day == pytest.approx(2.5)
    assert fit.intercept == pytest.approx(5.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.value_at(START + timedelta(days=20)) == pytest.approx(55.0)


def test_one_gb_a_week_towards_100_gb_names_the_right_week() -> None:
    # 50 GB on 2026-01-04, +1 GB every Sunday: 100 GB is reached 50 weeks on, 2026-12-20
    pts = weekly(50 * GB, 1 * GB, 10)
    now = pts[-1].at
    fc = forecast(series(pts), POLICY, now)
    assert fc.crossing_at is not None
    assert fc.crossing_at.isocalendar()[:2] == (2026, 51)
    assert fc.crossing_at.date() == START.date() + timedelta(weeks=50)
    assert fc.days_left == pytest.approx(41 * 7, abs=0.5)  # seen from week 9
    assert fc.verdict == "ok" and fc.status == "pass"  # 287 days: not within 90
    assert fc.fit is not None and fc.fit.slope_per_day * 7 == pytest.approx(GB)
    assert "2026-12-20" in fc.note and "+1.0 GB/week" in fc.note
    # seen from 30 weeks on (the same trend), the crossing is within 90 days: a warning
    later = weekly(50 * GB, 1 * GB, 40)
    fc = forecast(series(later), POLICY, later[-1].at)
    assert fc.crossing_at is not None and fc.crossing_at.date() == date_of_week(50)
    assert fc.verdict == "warn" and fc.status == "warn"
    assert fc.days_left == pytest.approx(11 * 7, abs=0.5)


def date_of_week(k: int):
    return (START + timedelta(weeks=k)).date()


def test_the_warning_horizon_is_a_setting() -> None:
    pts = weekly(50 * GB, 1 * GB, 10)
    assert forecast(series(pts), Policy(warn_days=300), pts[-1].at).verdict == "warn"
    assert forecast(series(pts), Policy(warn_days=200), pts[-1].at).verdict == "ok"


@pytest.mark.parametrize("per_week", [0.0, -0.5 * GB])
def test_flat_and_shrinking_series_never_cross(per_week: float) -> None:
    pts = weekly(60 * GB, per_week, 12)
    fc = forecast(series(pts), POLICY, pts[-1].at)
    assert fc.verdict == "never" and fc.status == "pass"
    assert fc.crossing_at is None and fc.days_left is None


def test_a_noisy_flat_series_is_no_trend_not_a_date() -> None:
    pts = weekly(60 * GB, 0.0, 20, noise=3 * GB)
    fc = forecast(series(pts), POLICY, pts[-1].at)
    assert fc.verdict == "never"
    assert "no clear trend" in fc.note
    assert fc.crossing_at is None


def test_a_noisy_growing_series_lands_near_the_true_date() -> None:
    pts = weekly(50 * GB, 1 * GB, 26, noise=0.8 * GB)
    fc = forecast(series(pts), POLICY, pts[-1].at)
    assert fc.crossing_at is not None
    true = START + timedelta(weeks=50)
    assert abs((fc.crossing_at - true).days) <= 21
    assert fc.fit is not None and fc.fit.r2 is not None and 0.8 < fc.fit.r2 < 1.0


def test_free_space_falling_towards_a_floor() -> None:
    # 40 GB free, 2 GB less a week, floor 1 GB: reached 19.5 weeks after the start
    pts = weekly(40 * GB, -2 * GB, 8)
    fc = forecast(series(pts, limit=1 * GB, direction="down"), POLICY, pts[-1].at)
    assert fc.crossing_at is not None
    assert fc.crossing_at.date() == (START + timedelta(weeks=19.5)).date()
    assert fc.verdict == "warn"  # 12.5 weeks = 87.5 days away
    assert "falls to 1.0 GB" in fc.note
    # free space that grows never reaches the floor
    up = weekly(40 * GB, 2 * GB, 8)
    assert (
        forecast(series(up, limit=1 * GB, direction="down"), POLICY, up[-1].at).verdict == "never"
    )


@pytest.mark.parametrize(
    ("points", "says"),
    [
        (weekly(50 * GB, GB, 3), "3 daily point(s) over 14 day(s)"),  # too few points
        (
            [Point(START + timedelta(days=d), 50 * GB + d * GB) for d in range(6)],
            "6 daily point(s) over 5 day(s)",  # enough points, too short a span
        ),
        (
            # 60 readings of one day are one point
            [Point(NOON + timedelta(minutes=10 * i), 50 * GB + i) for i in range(60)],
            "1 daily point(s) over 0 day(s)",
        ),
    ],
)
def test_too_little_data_is_said_plainly(points: list[Point], says: str) -> None:
    fc = forecast(series(points), POLICY, points[-1].at)
    assert fc.verdict == "not_enough_data" and fc.status == "warn"
    assert fc.note.startswith("not enough data: " + says)
    assert "needs 4 over 14 days" in fc.note
    assert fc.fit is None and fc.crossing_at is None and fc.days_left is None


def test_already_over_the_limit_fails() -> None:
    pts = weekly(99 * GB, GB, 3)
    fc = forecast(series(pts), POLICY, pts[-1].at)  # 101 GB, even with too few points
    assert fc.verdict == "over" and fc.status == "fail"
    assert fc.days_left == 0
    assert "already above the limit: 101.0 GB against 100.0 GB" in fc.note


def test_no_limit_gives_the_rate_only_and_no_readings_is_unreadable() -> None:
    pts = weekly(5 * GB, 0.1 * GB, 8)
    fc = forecast(series(pts, limit=None), POLICY, pts[-1].at)
    assert fc.verdict == "no_limit" and fc.status == "pass"
    assert "+100.0 MB/week" in fc.note and fc.crossing_at is None
    empty = Series("redis_memory", "Redis memory", "up", [], None, "x", "x", problems=("down",))
    fc = forecast(empty, POLICY, START)
    assert fc.verdict == "unreadable" and fc.note == "no readings: down"


def test_daily_keeps_the_worst_reading_of_each_day() -> None:
    day = [Point(NOON + timedelta(hours=h), v) for h, v in [(0, 5.0), (1, 9.0), (2, 7.0)]]
    assert [p.value for p in daily(day, "up")] == [9.0]
    assert [p.value for p in daily(day, "down")] == [5.0]


def test_the_figures_round_trip_as_json_shaped_values() -> None:
    pts = weekly(50 * GB, 1 * GB, 10)
    out = forecast(series(pts), POLICY, pts[-1].at).to_dict()
    assert out["points"][0] == ["2026-01-04T23:00:00Z", 50_000_000_000]
    assert out["crossing_at"].startswith("2026-12-20")
    assert out["verdict"] == "ok" and out["n_points"] == 10 and out["span_days"] == 63.0
    assert set(out) >= {"key", "label", "unit", "direction", "limit", "slope_per_day", "r2"}
