"""docker-compose.yml cannot run here (no Docker engine): test its structure instead,
and that every command it runs exists in our package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.main import get_command

from maintenance.cli import app as cli_app
from maintenance.config import SECRET_FIELDS, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = ("migrate", "worker", "beat", "flower")


def test_the_stack_has_every_service() -> None:
    assert set(SERVICES) == {"db", "redis", "migrate", "worker", "beat", "flower"}


def test_redis_never_evicts_the_brokers_keys() -> None:
    cmd = SERVICES["redis"]["command"]
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize("name", ["db", "redis", "worker", "beat", "flower"])
def test_long_running_services_have_health_checks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"]


def _maint_command_exists(argv: list[str]) -> bool:
    cmd: Any = get_command(cli_app)
    for word in argv[1:]:
        if word.startswith("-"):
            break
        sub = cmd.commands.get(word) if hasattr(cmd, "commands") else None
        if sub is None:
            return False
        cmd = sub
    return not hasattr(cmd, "commands")  # ends on a real command, not a group


@pytest.mark.parametrize("name", OURS)
def test_every_command_exists_in_our_package(name: str) -> None:
    argv = SERVICES[name]["command"]
    assert isinstance(argv, list), "exec form: no shell between us and the signal"
    if argv[0] == "maint":
        assert _maint_command_exists(argv), argv
        return
    assert argv[:3] == ["celery", "-A", "tasks.app"], argv
    assert argv[3] in {"worker", "beat", "flower"}
    if argv[3] == "flower":
        import flower  # noqa: F401 - installed with the package

    from celery.bin.celery import celery as celery_cli

    assert argv[3] in celery_cli.commands


def test_the_maint_command_check_can_fail() -> None:
    assert not _maint_command_exists(["maint", "db", "upgrayde"])
    assert not _maint_command_exists(["maint", "db"])
    assert isinstance(cli_app, typer.Typer)


def test_our_services_use_our_image_and_known_settings() -> None:
    known = {f"MAINT_{n.upper()}" for n in Settings.model_fields}
    known |= {f"MAINT_{n.upper()}_FILE" for n in SECRET_FIELDS}
    for name in OURS:
        svc = SERVICES[name]
        assert svc["image"].startswith("residency-maintenance")
        env = svc["environment"]
        for var in env:
            if var.startswith("MAINT_"):
                assert var in known, f"{name}: {var} is not a setting"


def test_secrets_come_from_files_not_the_compose_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name in OURS:
        env = SERVICES[name]["environment"]
        assert "MAINT_TARGET_DSN" not in env and env["MAINT_TARGET_DSN_FILE"].startswith(
            "/run/secrets/"
        )
        assert env["MAINT_HISTORY_DSN_FILE"].startswith("/run/secrets/")
    assert SERVICES["db"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    # no literal password anywhere outside comments
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert not re.search(r"://[^:/@\s]+:[^@\s$]+@", code)


def test_flower_auth_comes_from_the_environment_never_argv() -> None:
    flower = SERVICES["flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH")
    assert not any("basic" in part for part in flower["command"])
    for port in flower["ports"]:
        assert port.startswith("127.0.0.1:")


def test_migrations_run_once_before_the_workers() -> None:
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("worker", "beat", "flower"):
        assert (
            SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_worker_has_the_backup_and_log_volumes_where_settings_point() -> None:
    env = SERVICES["worker"]["environment"]
    mounts = {v.split(":")[1] for v in SERVICES["worker"]["volumes"]}
    assert {env["MAINT_BACKUP_ROOT"], env["MAINT_LOG_ROOT"]} <= mounts
    for vol in SERVICES["worker"]["volumes"]:
        assert vol.split(":")[0] in COMPOSE["volumes"]


def test_exactly_one_beat() -> None:
    assert SERVICES["beat"]["deploy"]["replicas"] == 1


def test_dockerfile_runs_as_a_user_with_a_matching_pg_dump() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "postgresql-client-15" in text  # the server is postgres:15
    assert SERVICES["db"]["image"] == "postgres:15"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    # the suite itself, not editable, on top of exactly the locked, hash-checked packages
    assert re.search(r"^RUN pip install --require-hashes -r requirements\.lock$", text, re.M)
    assert re.search(r"pip install --no-deps --no-build-isolation \. ", text)
    assert text.index("requirements.lock") < text.index("COPY maintenance")  # cached layer
