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
OURS = ("migrate", "worker", "beat", "beat-standby", "flower", "metrics")
BEATS = ("beat", "beat-standby")


def test_the_stack_has_every_service() -> None:
    assert set(SERVICES) == {
        "db",
        "redis",
        "migrate",
        "worker",
        "beat",
        "beat-standby",
        "flower",
        "metrics",
    }


def test_redis_never_evicts_the_brokers_keys() -> None:
    cmd = SERVICES["redis"]["command"]
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize(
    "name", ["db", "redis", "worker", "beat", "beat-standby", "flower", "metrics"]
)
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
    for name in ("worker", *BEATS, "flower", "metrics"):
        assert (
            SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_metrics_serves_on_the_port_it_publishes_on_loopback_and_checks_itself() -> None:
    """maint metrics serve, listening on every address inside the container (else the
    published port reaches nothing), published on the host's loopback only, its health
    check asking the same port's /metrics; the history's database up first."""
    svc = SERVICES["metrics"]
    argv = svc["command"]
    assert argv[:4] == ["maint", "metrics", "serve", "--host"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - inside the container
    port = argv[argv.index("--port") + 1]
    assert svc["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"http://127.0.0.1:{port}/metrics" in svc["healthcheck"]["test"][-1]
    assert svc["depends_on"]["db"]["condition"] == "service_healthy"
    assert "volumes" not in svc  # it reads the history, never the roots
    from maintenance.config import load_settings

    assert int(port) == load_settings().metrics_port  # the documented default


def test_worker_has_the_backup_and_log_volumes_where_settings_point() -> None:
    env = SERVICES["worker"]["environment"]
    mounts = {v.split(":")[1] for v in SERVICES["worker"]["volumes"]}
    assert {env["MAINT_BACKUP_ROOT"], env["MAINT_LOG_ROOT"]} <= mounts
    for vol in SERVICES["worker"]["volumes"]:
        assert vol.split(":")[0] in COMPOSE["volumes"]


def test_two_beats_one_leads_with_the_leader_scheduler() -> None:
    """Not one replica as the only guard: two beats, the leader scheduler in both (the
    lock decides who sends, the claims fence a split brain: docs/beat.md)."""
    for name in BEATS:
        svc = SERVICES[name]
        argv = svc["command"]
        assert argv[:4] == ["celery", "-A", "tasks.app", "beat"]
        assert argv[argv.index("-S") + 1] == "tasks.beat:LeaderScheduler"
        assert not any(a.startswith("--schedule") for a in argv)  # no shelve file: claims
        assert "deploy" not in svc and "volumes" not in svc
        assert svc["depends_on"]["db"]["condition"] == "service_healthy"  # the lock lives there
        # the health check pings beat's own node, which answers while its loop ticks
        assert "--enable-remote-control" in argv
        assert "celerybeat@$$HOSTNAME" in svc["healthcheck"]["test"][1]
    from celery.utils.imports import symbol_by_name

    from tasks.beat import LeaderScheduler

    assert symbol_by_name(SERVICES["beat"]["command"][-2]) is LeaderScheduler


# --- docker-compose.scheduler.yml: attached to the scheduler's compose project ----------


class _ComposeLoader(yaml.SafeLoader):
    """Compose's merge tags: ``!reset`` (drop the value) and ``!override`` (replace)."""


def _tagged(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            value: Any = loader.construct_mapping(node, deep=True)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_scalar(node)  # type: ignore[arg-type]
        return (tag, value)

    return construct


_ComposeLoader.add_constructor("!reset", _tagged("reset"))
_ComposeLoader.add_constructor("!override", _tagged("override"))
ATTACH_TEXT = (ROOT / "docker-compose.scheduler.yml").read_text()
ATTACH = yaml.load(ATTACH_TEXT, Loader=_ComposeLoader)  # noqa: S506 - SafeLoader + two tags


def _merged(name: str) -> dict[str, Any]:
    """Compose's merge of one service (the parts these tests look at): mappings by key,
    ``!reset`` drops, ``!override`` replaces, ``networks`` replaced when given."""
    out = dict(SERVICES[name])
    for key, value in ATTACH["services"].get(name, {}).items():
        if isinstance(value, tuple) and value[0] == "reset":
            out.pop(key, None)
        elif isinstance(value, tuple) and value[0] == "override":
            out[key] = value[1]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def test_attached_our_db_and_redis_do_not_start() -> None:
    for name in ("db", "redis"):
        assert ATTACH["services"][name]["profiles"], name  # only with --profile own-services
    assert set(ATTACH["services"]) == {"db", "redis", *OURS}


@pytest.mark.parametrize("name", OURS)
def test_attached_services_join_the_schedulers_network_and_wait_for_nothing_of_ours(
    name: str,
) -> None:
    svc = _merged(name)
    assert svc["networks"] == ["scheduler"]
    deps = svc.get("depends_on", {})
    assert "db" not in deps and "redis" not in deps  # theirs, not started by us
    if name != "migrate":
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    env = svc["environment"]
    assert env["MAINT_HISTORY_DSN_FILE"].startswith("/run/secrets/")  # secrets as before
    broker, cache = env["MAINT_BROKER_URL"], env["MAINT_CACHE_URL"]
    assert "redis://redis:6379/" in broker and "redis://redis:6379/" in cache
    assert broker.rsplit("/", 1)[1].rstrip("}") != cache.rsplit("/", 1)[1].rstrip("}")
    known = {f"MAINT_{n.upper()}" for n in Settings.model_fields}
    assert {v for v in env if v.startswith("MAINT_")} <= known | {
        f"MAINT_{n.upper()}_FILE" for n in SECRET_FIELDS
    }


def test_attached_network_is_the_schedulers_existing_one() -> None:
    net = ATTACH["networks"]["scheduler"]
    assert net["external"] is True
    assert net["name"].startswith("${SCHEDULER_NETWORK")


def test_attached_file_holds_no_secret() -> None:
    code = "\n".join(line.split("#", 1)[0] for line in ATTACH_TEXT.splitlines())
    assert not re.search(r"://[^:/@\s]+:[^@\s$]+@", code)
    assert "PASSWORD" not in code


def test_the_merge_helper_can_fail() -> None:
    """Without the override file's !override, the worker would wait for our own db."""
    assert "db" in SERVICES["worker"]["depends_on"]
    assert "db" not in _merged("worker")["depends_on"]


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
