"""The health document (draft-inadarei-api-health-check-06) and the overall rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maintenance.health import Entry, Status, component_status, overall
from maintenance.health.document import build

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CRITICAL = ("api", "database", "host")


def e(component: str, status: Status, measurement: str = "x", **kw: object) -> Entry:
    return Entry(component, measurement, "component", status, NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ({"api": "pass", "database": "pass", "cache": "pass"}, "pass"),
        ({"api": "pass", "cache": "warn"}, "warn"),
        ({"api": "warn", "database": "warn"}, "warn"),
        # a failure of a component that is not critical: degraded, not critical
        ({"api": "pass", "cache": "fail", "celery": "fail"}, "warn"),
        # any critical component's failure: critical
        ({"api": "fail", "cache": "pass"}, "fail"),
        ({"database": "fail"}, "fail"),
        ({"host": "fail", "cache": "warn"}, "fail"),
        ({}, "pass"),
    ],
)
def test_the_overall_rules(components: dict[str, str], expected: str) -> None:
    got = overall({c: Status(s) for c, s in components.items()}, CRITICAL)
    assert got is Status(expected)


def test_which_components_are_critical_is_a_setting() -> None:
    assert overall({"cache": Status.FAIL}, ["cache"]) is Status.FAIL
    assert overall({"api": Status.FAIL}, []) is Status.WARN


def test_the_document_has_the_drafts_shape() -> None:
    doc = build(
        [
            e(
                "api",
                Status.PASS,
                "responseTime",
                observed_value=12.5,
                observed_unit="ms",
                component_id="http://api",
                output="never shown when pass",
            ),
            e("cache", Status.FAIL, "responseTime", output="ConnectionError: refused"),
            e(
                "host",
                Status.WARN,
                "diskUtilization",
                observed_value=85.0,
                observed_unit="%",
                component_id="backups /b",
                output="85% used",
            ),
            e(
                "host",
                Status.PASS,
                "diskUtilization",
                observed_value=10.0,
                observed_unit="%",
                component_id="logs /l",
            ),
        ],
        critical=CRITICAL,
        release="0.1.0",
        description="test",
        notes=["a note"],
        counters={"cache": {"hits": 1}},
    )
    assert doc["status"] == "warn"  # cache is not critical: degraded
    assert doc["version"] == "1" and doc["releaseId"] == "0.1.0" and doc["serviceId"]
    assert list(doc["checks"]) == ["api:responseTime", "cache:responseTime", "host:diskUtilization"]
    (api,) = doc["checks"]["api:responseTime"]
    assert api == {
        "componentId": "http://api",
        "componentType": "component",
        "observedValue": 12.5,
        "observedUnit": "ms",
        "status": "pass",
        "time": "2026-12-07T10:00:00Z",
    }
    (cache,) = doc["checks"]["cache:responseTime"]
    assert cache["output"] == "ConnectionError: refused" and "observedValue" not in cache
    assert [i["componentId"] for i in doc["checks"]["host:diskUtilization"]] == [
        "backups /b",
        "logs /l",
    ]
    assert doc["output"] == "cache fail: ConnectionError: refused; host warn: 85% used"
    assert doc["notes"] == ["a note"] and doc["counters"] == {"cache": {"hits": 1}}


def test_a_healthy_document_has_no_output() -> None:
    doc = build([e("api", Status.PASS)], critical=CRITICAL, release="1", description="d")
    assert doc["status"] == "pass" and "output" not in doc and "notes" not in doc


def test_component_status_is_the_worst_of_each_components_checks() -> None:
    doc = {
        "status": "fail",
        "checks": {
            "api:status": [{"status": "fail"}],
            "api:responseTime": [{"status": "pass"}],
            "host:diskUtilization": [{"status": "pass"}, {"status": "warn"}],
            "database:queryTime": [{"status": "pass"}],
            "cache:hitRate": [{"status": "bogus"}],  # unknown: not healthy
        },
    }
    assert component_status(doc) == {
        "api": "fail",
        "database": "pass",
        "cache": "fail",
        "host": "warn",
    }
    assert component_status({}) == {}


def test_an_entry_names_a_known_component() -> None:
    with pytest.raises(ValueError, match="unknown component"):
        e("network", Status.PASS)
