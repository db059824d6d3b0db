"""The dead man's switch: healthchecks.io's URLs, bounded requests that never raise."""

from __future__ import annotations

import time

import pytest

from maintenance import redact
from maintenance.config import Settings, load_settings
from maintenance.health import deadman
from maintenance.health.deadman import Signal, url_for
from tests.health_api import closed_port, stand_in


def _settings(url: str | None, timeout_s: float = 1.0) -> Settings:
    return load_settings(health_deadman_url=url, health_deadman_timeout_s=timeout_s)


def test_the_urls_are_healthchecks_ios() -> None:
    base = "https://hc-ping.com/5f1c1e9c-0000-4000-8000-000000000000"
    assert url_for(base, Signal.START) == base + "/start"
    assert url_for(base + "/", Signal.SUCCESS) == base
    assert url_for(base, Signal.FAIL) == base + "/fail"


def test_not_configured_sends_nothing() -> None:
    assert deadman.ping(_settings(None), Signal.START) is None


def test_pings_reach_the_service_with_the_summary() -> None:
    with stand_in() as hc:
        s = _settings(f"{hc.url}/ping/abc-123")
        # the whole URL is the credential: masked wherever it is logged (httpx logs it)
        assert "abc-123" not in redact.scrub(f"POST {hc.url}/ping/abc-123/start")
        assert str(deadman.ping(s, Signal.START)) == "start: HTTP 200"
        assert deadman.ping(s, Signal.SUCCESS, "healthy (api pass)").ok  # type: ignore[union-attr]
        assert deadman.ping(s, Signal.FAIL, "critical").ok  # type: ignore[union-attr]
        assert hc.requests == [
            ("POST", "/ping/abc-123/start", b""),
            ("POST", "/ping/abc-123", b"healthy (api pass)"),
            ("POST", "/ping/abc-123/fail", b"critical"),
        ]


def test_a_failed_ping_is_reported_never_raised_and_bounded() -> None:
    refused = deadman.ping(
        _settings(f"http://127.0.0.1:{closed_port()}/p/secret-uuid"), Signal.START
    )
    assert refused is not None and not refused.ok
    assert "ConnectError" in refused.detail and "secret-uuid" not in refused.detail
    with stand_in("hang") as hc:
        t0 = time.monotonic()
        hung = deadman.ping(_settings(f"{hc.url}/p", timeout_s=0.3), Signal.SUCCESS)
        assert time.monotonic() - t0 < 1.5
    assert hung is not None and hung.detail == "timed out after 0.3 s"
    with stand_in("error") as hc:
        answered = deadman.ping(_settings(f"{hc.url}/p"), Signal.FAIL)
    assert answered is not None and (answered.ok, answered.detail) == (False, "HTTP 500")


@pytest.mark.parametrize("url", ["ftp://hc/x", "not a url"])
def test_a_bad_url_is_a_configuration_error(url: str) -> None:
    from maintenance.errors import ConfigError

    with pytest.raises(ConfigError, match="MAINT_HEALTH_DEADMAN_URL"):
        _settings(url)
