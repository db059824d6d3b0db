"""cache.clear_pattern and cache.clear on the real Redis: exactly the keys SCAN MATCH
selects, in the cache's database only, in batches that yield, the broker untouched."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from maintenance import catalog, runner
from maintenance.cache import clear as clear_mod
from maintenance.cache import patterns, sweep
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import BROKER_DB, CACHE_DB, LEAK_CANARY, history_rows
from tests.integration.cache_support import (
    Keys,
    PrivateRedis,
    fill,
    keys,
    private_redis,
    scan_match,
    with_settings,
)

pytestmark = pytest.mark.integration
__all__ = ["keys", "private_redis"]  # fixtures

#: Names under the test's prefix: the playbook's prefixes, and every character a Redis
#: glob reads specially, in names.
NAMES: list[bytes] = [
    n if isinstance(n, bytes) else n.encode()
    for n in [
        "swaps:1",
        "swaps:2",
        "swaps:",
        "swapsx:1",
        "schedule:*",
        "schedule:**",
        "schedule:1",
        "report:?",
        "report:a",
        "report:ab",
        "br[ack]et",
        "bracket",
        "br[",
        "b]r",
        "back\\slash",
        "back\\\\slash",
        "backslash",
        "star*mid",
        "starXmid",
        "q?",
        "qq",
        "uni:ü",
        b"bin:\xff\xfe",
        "sp ace:1",
        "nl\nkey",
    ]
]

#: pattern (after the escaped prefix) -> the names Redis selects, as Redis documents it.
CASES: dict[str, set[str | bytes]] = {
    "swaps:*": {"swaps:1", "swaps:2", "swaps:"},
    "schedule:*": {"schedule:*", "schedule:**", "schedule:1"},
    "schedule:\\*": {"schedule:*"},  # the playbook's DEL "schedule:*", meant literally
    "report:?": {"report:?", "report:a"},
    "report:\\?": {"report:?"},
    "br\\[ack\\]et": {"br[ack]et"},
    "br[[]*": {"br[ack]et", "br["},
    "b\\]r": {"b]r"},
    "b[]]r": set(),  # '[]' is an empty class in Redis: it matches no character
    "back\\\\slash": {"back\\slash"},
    "back\\\\\\\\slash": {"back\\\\slash"},
    "star?mid": {"star*mid", "starXmid"},
    "star\\*mid": {"star*mid"},
    "*[*?]*": {"schedule:*", "schedule:**", "report:?", "star*mid", "q?"},
    "uni:ü": {"uni:ü"},
    "bin:*": {b"bin:\xff\xfe"},
    "sp ace:*": {"sp ace:1"},
    "nl?key": {"nl\nkey"},
}


def _enc(names: set[str | bytes], prefix: str) -> set[bytes]:
    return {prefix.encode() + (n if isinstance(n, bytes) else n.encode()) for n in names}


def _clear(settings: Settings, pattern: str, **params: object) -> runner.Outcome:
    return runner.execute(
        catalog.get("cache.clear_pattern"),
        {"pattern": pattern, **params},
        settings=settings,
        trigger=Trigger.CLI,
    )


@pytest.mark.parametrize("suffix", list(CASES))
def test_exactly_what_scan_match_selects_is_deleted_and_the_broker_db_is_untouched(
    settings: Settings, clean_history: str, keys: Keys, suffix: str
) -> None:
    every = {keys.prefix.encode() + n for n in NAMES}
    fill(keys.cache, every)
    fill(keys.broker, every)  # the same names where Celery lives: must survive
    pattern = patterns.escape(keys.prefix) + suffix
    selected = scan_match(keys.cache, pattern)
    assert selected == _enc(CASES[suffix], keys.prefix), "Redis matched otherwise than documented"

    out = _clear(settings, pattern)

    assert out.status is RunStatus.SUCCEEDED, out.summary
    assert keys.under() == every - selected
    assert out.result["figures"]["deleted"] == len(selected)  # type: ignore[index]
    assert {bytes(k) for k in keys.broker.scan_iter(match=pattern.encode())} == selected
    assert all(keys.broker.exists(k) for k in every)
    (row,) = history_rows()
    assert row["params"] == {"pattern": pattern} and row["status"] == "succeeded"


def test_the_deletion_runs_in_batches_and_yields_between_them(
    settings: Settings, clean_history: str, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = [f"{keys.prefix}bulk:{i}".encode() for i in range(2000)]
    keep = [f"{keys.prefix}keep:{i}".encode() for i in range(300)]
    fill(keys.cache, bulk + keep)
    pattern = patterns.escape(keys.prefix) + "bulk:*"
    watcher = keys.cache  # another client: the sweep opens its own
    seen: list[tuple[float, int]] = []

    def pause(seconds: float) -> None:  # what another client sees while the sweep yields
        seen.append((seconds, len(scan_match(watcher, pattern))))

    monkeypatch.setattr(clear_mod, "pause", pause)
    paced = with_settings(settings, cache_scan_count=20, cache_batch_ms=0, cache_pause_ms=3)
    out = _clear(paced, pattern)

    assert out.status is RunStatus.SUCCEEDED, out.summary
    figures = out.result["figures"]  # type: ignore[index]
    assert figures["deleted"] == 2000 and figures["batches"] > 10
    assert figures["pauses"] == len(seen) == figures["batches"] - 1
    assert {s for s, _ in seen} == {0.003}
    remaining = [n for _, n in seen]
    assert 0 < remaining[0] < 2000  # the first batch deleted some, not all, then yielded
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] < remaining[0]
    assert keys.under() == set(keep)


def test_a_dry_run_counts_and_deletes_nothing(
    settings: Settings, clean_history: str, keys: Keys
) -> None:
    names = [f"{keys.prefix}report:{i}".encode() for i in range(150)]
    fill(keys.cache, [*names, f"{keys.prefix}other".encode()])
    out = _clear(settings, patterns.escape(keys.prefix) + "report:*", dry_run="true")
    assert out.status is RunStatus.SUCCEEDED
    figures = out.result["figures"]  # type: ignore[index]
    assert (figures["matched"], figures["deleted"], figures["dry_run"]) == (150, 0, True)
    assert len(keys.under()) == 151
    assert out.summary.startswith("dry run: 150 keys match")


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "*?*", "[a-z]*"])
def test_a_pattern_that_matches_everything_is_refused_recorded_and_deletes_nothing(
    settings: Settings, clean_history: str, keys: Keys, pattern: str
) -> None:
    fill(keys.cache, [f"{keys.prefix}a".encode(), f"{keys.prefix}b".encode()])
    out = _clear(settings, pattern)
    assert out.status is RunStatus.FAILED and out.bad_input and out.exit_code == 2
    assert "cache.flush" in (out.error_message or "")
    (row,) = history_rows()
    assert row["error_type"] == "ParamError" and "'pattern'" in row["error_message"]
    assert len(keys.under()) == 2


@pytest.mark.parametrize(
    "field", ["cache_url", "result_backend"], ids=["broker-by-another-name", "result-backend"]
)
def test_the_cache_tasks_refuse_to_run_on_celerys_database(
    settings: Settings, clean_history: str, keys: Keys, field: str
) -> None:
    """localhost is 127.0.0.1 and an absent port is 6379: the URLs differ as strings
    (the settings accept them) but name one database."""
    names = [f"{keys.prefix}swaps:{i}".encode() for i in range(5)]
    fill(keys.broker, names)
    fill(keys.cache, names)
    if field == "cache_url":
        wrong = with_settings(settings, cache_url=f"redis://localhost/{BROKER_DB}")
    else:  # the cache db is where Celery keeps its results
        wrong = with_settings(settings, result_backend=f"redis://localhost:6379/{CACHE_DB}")
    for task, params in [
        ("cache.clear_pattern", {"pattern": patterns.escape(keys.prefix) + "swaps:*"}),
        ("cache.clear", {}),
        ("cache.flush", {"confirm": True, "force_reason": "test"}),
        ("cache.stats", {}),
        ("cache.analyze", {}),
    ]:
        out = runner.execute(catalog.get(task), params, settings=wrong, trigger=Trigger.CLI)
        assert out.status is RunStatus.FAILED, task
        assert out.error_type == "ConfigError", (task, out.error_message)
        assert "refuse to run" in (out.error_message or "")
    named = "MAINT_BROKER_URL" if field == "cache_url" else "MAINT_RESULT_BACKEND"
    assert named in (out.error_message or "")
    assert all(keys.broker.exists(k) for k in names) and all(keys.cache.exists(k) for k in names)
    assert len(history_rows("error_type = 'ConfigError'")) == 5


def test_two_names_of_one_server_are_told_apart_by_its_run_id(
    settings: Settings, clean_history: str, keys: Keys
) -> None:
    import socket

    host = socket.gethostname()
    alias = f"redis://{host}:6379/{BROKER_DB}"
    try:
        redis.Redis.from_url(alias, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"this host's name {host!r} does not reach the test Redis")
    fill(keys.broker, [f"{keys.prefix}swaps:1".encode()])
    wrong = with_settings(settings, cache_url=alias)
    out = _clear(wrong, patterns.escape(keys.prefix) + "swaps:*")
    assert out.error_type == "ConfigError" and "run_id" in (out.error_message or "")
    assert keys.broker.exists(f"{keys.prefix}swaps:1")


def test_a_cache_that_does_not_answer_is_transient_and_its_password_is_masked(
    settings: Settings, clean_history: str
) -> None:
    down = with_settings(settings, cache_url=f"redis://:{LEAK_CANARY}@127.0.0.1:1/{CACHE_DB}")
    out = _clear(down, "swaps:*")
    assert out.status is RunStatus.FAILED and out.error_type == "ServiceUnavailable"
    assert out.transient
    (row,) = history_rows()
    assert "did not answer" in row["error_message"] and "***" in row["error_message"]
    assert LEAK_CANARY not in json.dumps(row, default=str)


def test_a_second_clear_is_skipped_while_one_holds_the_cache_lock(
    settings: Settings, clean_history: str, history_db: str
) -> None:
    from maintenance import locks

    with locks.try_exclusive(history_db, catalog.CACHE_LOCK) as held:
        assert held
        for task, params in [
            ("cache.clear_pattern", {"pattern": "swaps:*"}),
            ("cache.flush", {"confirm": True}),
        ]:
            out = runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)
            assert out.status is RunStatus.SKIPPED and "'cache' lock" in out.summary


def test_the_sweep_clears_a_full_cache_that_refuses_writes(private_redis: PrivateRedis) -> None:
    """noeviction at maxmemory refuses writes, exactly when the cache must be cleared: a
    script flagged as one that may write (``#!lua``) is refused whole; the sweep's
    unflagged script runs, and UNLINK is allowed."""
    client = private_redis.client()
    client.config_set("maxmemory", "2mb")
    client.config_set("maxmemory-policy", "noeviction")
    i = 0
    try:
        while i < 100_000:
            client.set(f"fat:{i}", b"x" * 2000)
            i += 1
    except redis.exceptions.OutOfMemoryError:
        pass
    assert 0 < i < 100_000, "the cache never filled"
    flagged = client.register_script("#!lua\n" + sweep.SCRIPT)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        flagged(args=["0", b"fat:*", 100, 1000, "1"])
    assert client.dbsize() == i
    done = sweep.sweep(client, "fat:*", delete=True, pace=sweep.Pace(100, 0.001, 0))
    assert done.deleted == i and client.dbsize() == 0


# --- the gradual clear ---------------------------------------------------------------------


class _Api(BaseHTTPRequestHandler):
    body: object = {"status": "healthy", "active_operations": 0}
    code = 200

    def do_GET(self) -> None:
        payload = json.dumps(_Api.body).encode()
        self.send_response(_Api.code if self.path == "/api/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _gradual(settings: Settings, keys: Keys, api: str) -> tuple[Settings, dict[str, set[bytes]]]:
    p = keys.prefix
    s = with_settings(
        settings,
        api_url=api,
        cache_swaps_prefix=f"{p}swaps:",
        cache_schedule_prefix=f"{p}schedule:",
        cache_report_prefix=f"{p}report:",
    )
    groups = {
        name: {f"{p}{name}:{i}".encode() for i in range(40)}
        for name in ("swaps", "schedule", "report", "other")
    }
    for names in groups.values():
        fill(keys.cache, names)
    return s, groups


@pytest.mark.parametrize(
    ("code", "body", "schedule_cleared", "reason"),
    [
        (200, {"status": "healthy", "active_operations": 0}, True, None),
        (200, {"status": "healthy", "active_operations": 2}, False, "2 active operation(s)"),
        (200, {"status": "healthy"}, False, "does not report active_operations"),
        (503, {"status": "down"}, False, "did not say"),
    ],
)
def test_the_gradual_clear_follows_the_playbook_and_keeps_schedules_while_the_api_is_busy(
    settings: Settings,
    clean_history: str,
    keys: Keys,
    api_url: str,
    code: int,
    body: object,
    schedule_cleared: bool,
    reason: str | None,
) -> None:
    _Api.code, _Api.body = code, body
    s, groups = _gradual(settings, keys, api_url)
    out = runner.execute(catalog.get("cache.clear"), {}, settings=s, trigger=Trigger.CLI)
    assert out.status is RunStatus.SUCCEEDED, out.summary
    left = keys.under()
    assert not left & groups["swaps"] and not left & groups["report"]
    assert groups["other"] <= left
    assert (not left & groups["schedule"]) is schedule_cleared
    steps = out.result["figures"]["steps"]  # type: ignore[index]
    assert [st["step"] for st in steps] == ["swaps", "schedule", "report"]
    checks = {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]
    gate = checks[patterns.prefix_pattern(f"{keys.prefix}schedule:") + " cleared"]
    if schedule_cleared:
        assert gate["status"] == "pass" and steps[1]["deleted"] == 40
    else:
        assert gate["status"] == "warn" and reason in gate["observed"]
        assert steps[1]["status"] == "skipped" and reason in out.summary


def test_a_gradual_dry_run_deletes_nothing(
    settings: Settings, clean_history: str, keys: Keys, api_url: str
) -> None:
    _Api.code, _Api.body = 200, {"active_operations": []}
    s, _ = _gradual(settings, keys, api_url)
    out = runner.execute(
        catalog.get("cache.clear"), {"dry_run": True}, settings=s, trigger=Trigger.CLI
    )
    assert out.status is RunStatus.SUCCEEDED
    assert len(keys.under()) == 160
    assert [st["matched"] for st in out.result["figures"]["steps"]] == [40, 40, 40]  # type: ignore[index]
