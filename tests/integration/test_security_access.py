"""security.access_review on the real PostgreSQL and Redis, real files and a private
redis-server with a password."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.results import Trigger
from tests.conftest import BROKER_DB
from tests.integration.cache_support import PrivateRedis, private_redis, with_settings

pytestmark = pytest.mark.integration
__all__ = ["private_redis"]


def _findings(out: runner.Outcome) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {(f["what"], f["subject"]): f for f in out.result["figures"]["findings"]}  # type: ignore[index]


def test_access_review_findings_from_real_files_roles_and_redis(
    settings: Settings,
    clean_history: str,
    target_db: str,
    tmp_path: Path,
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backups, logs = tmp_path / "backups", tmp_path / "logs"
    backups.mkdir(mode=0o755)
    logs.mkdir()
    os.chmod(backups, 0o755)  # noqa: S103 - the finding under test
    os.chmod(logs, 0o750)  # noqa: S103 - a mode the review accepts
    secret = tmp_path / "flower-auth"
    secret.write_text("admin:pw")
    os.chmod(secret, 0o644)
    monkeypatch.setenv("MAINT_FLOWER_BASIC_AUTH_FILE", str(secret))
    private_redis.client().config_set("requirepass", "s3cret")
    s = with_settings(
        settings,
        backup_root=backups,
        log_root=logs,
        cache_url=f"redis://:s3cret@127.0.0.1:{private_redis.port}/1",
    )
    spec = catalog.get("security.access_review")
    first = runner.execute(spec, {}, settings=s, trigger=Trigger.CLI)
    found = _findings(first)
    assert found[("backup root open to group or others", f"{backups} (0755)")]["severity"] == "high"
    assert (
        found[("secret MAINT_FLOWER_BASIC_AUTH_FILE readable by everyone", f"{secret} (0644)")][
            "severity"
        ]
        == "critical"
    )
    assert not [k for k in found if k[0].startswith("log root")]  # 0750 is fine
    # the private server wants a password; the session's Redis (the broker) does not
    servers = {
        f["subject"]
        for f in first.result["figures"]["findings"]
        if f["what"] == "answers without a password"
    }  # type: ignore[index]
    assert servers == {f"redis://127.0.0.1:6379/{BROKER_DB}"}
    assert first.status.value == "failed"
    roles = {r["name"]: r for r in first.result["figures"]["roles"]}  # type: ignore[index]
    assert roles["postgres"]["superuser"] and roles["postgres"]["login"]
    assert "postgres" in first.result["figures"]["seen_roles"]  # type: ignore[index]
    assert ("roles not seen: not tracked yet", "") in found
    # fixed: a later review no longer reports them, and counts the earlier review
    os.chmod(backups, 0o700)
    os.chmod(secret, 0o600)
    second = runner.execute(spec, {}, settings=s, trigger=Trigger.CLI)
    again = _findings(second)
    assert not [k for k in again if k[0].startswith(("backup root", "secret"))]
    (untracked,) = [
        f for (what, _), f in again.items() if what == "roles not seen: not tracked yet"
    ]
    assert "1 earlier review(s)" in untracked["action"]
