"""The one builder of a child process's environment: an allow-list, never MAINT_."""

from __future__ import annotations

import os

import pytest

from maintenance import childenv, pg

PARENT = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/maint",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "LC_TIME": "en_GB.UTF-8",
    "TZ": "America/New_York",
    "TMPDIR": "/var/tmp",
    "MAINT_TARGET_DSN": "postgresql://app:Target-Pw@db/x",
    "MAINT_HISTORY_DSN": "postgresql://app:History-Pw@db/maintenance",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "PYTHONPATH": "/srv/app",
    "PGPASSWORD": "parent-pw",
    "PGHOST": "elsewhere",
    "PGUSER": "someone",
    "PGSSLROOTCERT": "/etc/ssl/root.crt",
    "PGPASSFILE": "/home/maint/.pgpass",
}


def test_a_child_gets_only_the_allow_list() -> None:
    assert childenv.child_env(parent=PARENT) == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/maint",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "TZ": "America/New_York",
        "TMPDIR": "/var/tmp",
    }


def test_a_libpq_child_gets_the_parents_libpq_settings_but_never_its_identity() -> None:
    env = childenv.child_env({"PGHOST": "db", "PGPASSWORD": "dsn-pw"}, libpq=True, parent=PARENT)
    assert env["PGSSLROOTCERT"] == "/etc/ssl/root.crt" and env["PGPASSFILE"].endswith(".pgpass")
    assert env["PGHOST"] == "db" and env["PGPASSWORD"] == "dsn-pw"
    assert "PGUSER" not in env  # the parent's user is not the DSN's
    assert not any(k.startswith("MAINT_") for k in env)
    assert "aws-secret" not in env.values() and "PYTHONPATH" not in env


def test_a_maint_variable_is_never_passed_on_purpose_either() -> None:
    with pytest.raises(ValueError, match="MAINT_TARGET_DSN"):
        childenv.child_env({"MAINT_TARGET_DSN": "postgresql://x@y/z"})


def test_libpq_env_is_the_curated_environment_plus_the_dsns_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in list(os.environ):  # exactly PARENT, whatever this machine's environment holds
        monkeypatch.delenv(key)
    for key, value in PARENT.items():
        monkeypatch.setenv(key, value)
    env = pg.libpq_env("postgresql://u:p%40ss@db:6432/app?sslmode=require&application_name=m")
    assert env == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/maint",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "TZ": "America/New_York",
        "TMPDIR": "/var/tmp",
        "PGSSLROOTCERT": "/etc/ssl/root.crt",
        "PGPASSFILE": "/home/maint/.pgpass",
        "PGHOST": "db",
        "PGPORT": "6432",
        "PGUSER": "u",
        "PGPASSWORD": "p@ss",
        "PGDATABASE": "app",
        "PGSSLMODE": "require",
        "PGAPPNAME": "m",
    }


def test_every_child_process_of_the_suite_goes_through_proc_and_gets_an_environment() -> None:
    """A child started any other way than maintenance/proc.py would miss the curated
    environment (a subprocess call without ``env=`` hands a child the worker's whole
    environment, MAINT_ settings and passwords included), its own process group and its
    end on an error or with the worker. proc itself passes ``env=`` to every child."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "maintenance"
    spawners = {"run", "Popen", "call", "check_call", "check_output"}
    os_spawners = ("system", "popen", "fork", "forkpty", "exec", "spawn", "posix_spawn")
    elsewhere, proc_calls, popens, missing = [], 0, 0, []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if path.name != "proc.py" and any(
                    n.split(".")[0] in ("subprocess", "pty", "multiprocessing") for n in names
                ):
                    elsewhere.append(f"{where}:{node.lineno}")
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
            ):
                continue
            owner, attr = node.func.value.id, node.func.attr
            if owner == "os" and attr.startswith(os_spawners):
                elsewhere.append(f"{where}:{node.lineno}")
            if owner == "proc" and attr in ("run", "child"):
                proc_calls += 1
            if owner == "subprocess" and attr in spawners:
                popens += 1
                if not any(k.arg == "env" for k in node.keywords):
                    missing.append(f"{where}:{node.lineno}")
    assert elsewhere == []
    assert proc_calls >= 6  # pg_dump, pg_restore (decode, load x3), --version, hooks
    assert popens == 1 and missing == []  # proc's one Popen, given the child's environment
