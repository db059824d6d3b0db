"""test.smoke / test.baseline decisions (pure) and MAINT_SMOKE_REQUESTS's strict parsing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from maintenance.config import load_settings
from maintenance.config.smoke import SmokeRequest
from maintenance.errors import ConfigError
from maintenance.smoketest.judge import Policy, Previous, compare, problems, timings
from maintenance.smoketest.send import Answer

T = datetime(2026, 12, 6, 4, 30, tzinfo=UTC)
HEALTH = SmokeRequest(name="health", path="/api/health", keys=("status", "database"))


def prev(*times: float | None, name: str = "health") -> list[Previous]:
    return [Previous(i, T - timedelta(weeks=i + 1), {name: t}) for i, t in enumerate(times)]


def test_the_default_requests_are_the_playbooks_three() -> None:
    s = load_settings()
    assert [r.name for r in s.smoke_requests] == ["health", "schedule query", "report"]
    assert s.smoke_requests[0].keys == ("status", "database", "cache", "api")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("{}", "must be a non-empty JSON list"),
        ("[]", "must be a non-empty JSON list"),
        ('["health"]', "item 1: must be a JSON object, got str"),
        ('[{"name": "a", "path": "/a"}, {"name": "b"}]', "item 2 ('b'): path: Field required"),
        ('[{"name": "a", "path": "api"}]', "item 1 ('a'): path: must be a path starting"),
        (
            '[{"name": "a", "path": "/a", "method": "DELETE"}]',
            "item 1 ('a'): method: Input should be",
        ),
        ('[{"name": "a", "path": "/a", "status": 999}]', "item 1 ('a'): status:"),
        ('[{"name": "a", "path": "/a", "statuss": 200}]', "item 1 ('a'): statuss: unknown key"),
        ('[{"name": "a", "path": "/a"}, {"name": "a", "path": "/b"}]', "a given twice"),
        ('[{"name": "a", "path": "/a", "body": {"x": 1}}]', "body: only a POST sends one, not GET"),
        ('[{"name": "a", "method": "HEAD", "path": "/a", "keys": ["x"]}]', "keys: a HEAD answer"),
    ],
)
def test_a_bad_request_list_names_the_bad_item(
    raw: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAINT_SMOKE_REQUESTS", raw)
    with pytest.raises(
        ConfigError,
        match="MAINT_SMOKE_REQUESTS: .*" + re.escape(says),
    ):
        load_settings()


def test_problems_of_an_answer() -> None:
    ok = Answer("health", 200, ("status", "database", "x"), 12.0)
    assert problems(HEALTH, ok) == []
    assert problems(HEALTH, Answer("health", 503, ("status",), 5.0)) == [
        "HTTP 503, expected 200",
        "missing key(s) database",
    ]
    assert problems(HEALTH, Answer("health", 200, None, 5.0, body_note="body is not JSON")) == [
        "body is not JSON"
    ]
    assert problems(HEALTH, Answer("health", None, None, 500.0, "timed out after 0.5 s")) == [
        "timed out after 0.5 s"
    ]
    assert timings([HEALTH], [[ok, Answer("health", 200, ("status", "database"), 20.0)]]) == {
        "health": 16.0
    }
    assert timings([HEALTH], [[ok, Answer("health", 500, None, 1.0)]]) == {"health": None}


def test_no_baseline_yet_then_the_median_of_the_trailing_runs() -> None:
    policy = Policy(weeks=4, regression_pct=50, min_ms=20)
    (first,) = compare({"health": 40.0}, [], policy)
    assert first.verdict == "no_baseline"
    # median of 40, 42, 100 (one slow week) is 42: 60 ms is +43%, within 50%
    (c,) = compare({"health": 60.0}, prev(40, 42, 100), policy)
    assert (c.verdict, c.median_ms, c.samples, c.change_pct) == ("ok", 42.0, 3, 42.9)
    (c,) = compare({"health": 70.0}, prev(40, 42, 100), policy)
    assert c.verdict == "regression" and c.change_pct == 66.7
    # +200% but only 6 ms slower: noise, not a regression
    (c,) = compare({"health": 9.0}, prev(3, 3, 3), policy)
    assert c.verdict == "ok"
    # a failed request this week is not measured; earlier failed ones are not counted
    (c,) = compare({"health": None}, prev(40, None), policy)
    assert (c.verdict, c.samples) == ("not_measured", 1)
    (c,) = compare({"health": 40.0}, prev(None, None), policy)
    assert c.verdict == "no_baseline"


def test_requests_that_could_outlast_the_tasks_time_limit_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = [{"name": f"r{i}", "path": f"/r{i}"} for i in range(25)]
    monkeypatch.setenv("MAINT_SMOKE_REQUESTS", json.dumps(many))
    with pytest.raises(ConfigError, match=r"\(25\) x MAINT_SMOKE_TIMEOUT_S \(10 s\) is 250 s"):
        load_settings()
    monkeypatch.setenv("MAINT_SMOKE_TIMEOUT_S", "9")
    assert len(load_settings().smoke_requests) == 25
