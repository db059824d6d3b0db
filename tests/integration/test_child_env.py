"""Children get only what they need: every process the suite starts (pg_dump, pg_restore,
the restore hooks) sees an allow-list of the environment, never a ``MAINT_`` setting,
never a password it does not use.

Proved with real children: MAINT_PG_BIN_DIR points at a folder whose ``pg_dump`` and
``pg_restore`` are small wrappers that append their initial environment
(``/proc/$$/environ``, before the shell adds anything) to a file and then exec the real
program; the hooks are commands that do the same.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from maintenance import pgtools
from maintenance.config import load_settings
from tests.conftest import LEAK_CANARY, PG_SERVER, TAG, run_cli

pytestmark = pytest.mark.integration

#: What a child may inherit (docs/architecture.md, "Secrets"), besides the PG* libpq
#: variables of the database it connects to and a hook's RESTORE_HOOK_* context.
ALLOWED = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR"}

TARGET_PW = f"Target-{secrets.token_hex(6)}-pw"  # pg_dump needs it, as PGPASSWORD only
HISTORY_PW = f"History-{secrets.token_hex(6)}-pw"  # no child needs it
FLOWER_PW = f"Flower-{secrets.token_hex(6)}-pw"
OTHER_SECRET = f"Unrelated-{secrets.token_hex(6)}"  # the worker's own, unrelated secret

#: Each child's record starts with this (ASCII RS): no environment value holds it, even
#: the hook commands' own source (they spell it as an escape).
MARK = "\x1echild "

WRAPPER = """#!/bin/sh
{{ printf '\\036child %s\\n' "{name} $*"; /usr/bin/tr '\\0' '\\n' < /proc/$$/environ; echo; }} >> {log}
exec {real} "$@"
"""

HOOK = (
    "import sys; log = open(sys.argv[1], 'ab'); "
    "log.write(b'\\x1echild hook ' + sys.argv[2].encode() + b'\\n'); "
    "log.write(open('/proc/self/environ', 'rb').read().replace(b'\\0', b'\\n') + b'\\n')"
)


def _blocks(log: Path) -> list[tuple[str, dict[str, str]]]:
    """(header, environment) of every child that wrote to ``log``."""
    out: list[tuple[str, dict[str, str]]] = []
    for block in log.read_text().split(MARK)[1:]:
        header, _, body = block.partition("\n")
        env = dict(line.split("=", 1) for line in body.splitlines() if "=" in line)
        out.append((header, env))
    return out


@pytest.fixture
def live(services: None) -> Iterator[str]:
    from maintenance import pg
    from maintenance.demo.seed import seed

    name = f"maint_test_{TAG}_childenv"
    seed(PG_SERVER, name, scale=0.02)
    yield name
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        others = [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",)
            )
        ]
    for db in others:
        pg.drop_database(PG_SERVER, db)


@pytest.fixture
def env(maint_env: dict[str, str], live: str, tmp_path: Path, clean_history: str) -> dict[str, str]:
    with psycopg.connect(PG_SERVER) as conn:
        major = conn.info.server_version // 10000
    bin_dir = tmp_path / "pgbin"
    bin_dir.mkdir()
    log = tmp_path / "children.log"
    for name in ("pg_dump", "pg_restore"):
        real = pgtools.find(name, load_settings(pg_bin_dir=None), major)
        wrapper = bin_dir / name
        wrapper.write_text(WRAPPER.format(name=name, log=log, real=real))
        wrapper.chmod(0o755)
    base = "postgresql://postgres:{pw}@" + PG_SERVER.split("@", 1)[1].rsplit("/", 1)[0]
    return maint_env | {
        "MAINT_TARGET_DSN": base.format(pw=TARGET_PW) + f"/{live}",
        "MAINT_HISTORY_DSN": maint_env["MAINT_HISTORY_DSN"].replace(LEAK_CANARY, HISTORY_PW),
        "MAINT_FLOWER_BASIC_AUTH": f"admin:{FLOWER_PW}",
        "MAINT_PG_BIN_DIR": str(bin_dir),
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_BACKUP_MIN_BYTES": json.dumps({"daily": 1, "weekly": 1, "monthly": 1}),
        "MAINT_BACKUP_MIN_FREE_BYTES": "0",
        "MAINT_RESTORE_HEALTH_PATH": "",
        "MAINT_RESTORE_STOP_APP_CMD": json.dumps([sys.executable, "-c", HOOK, str(log), "stop"]),
        "MAINT_RESTORE_START_APP_CMD": json.dumps([sys.executable, "-c", HOOK, str(log), "start"]),
        "WORKER_OWN_SECRET": OTHER_SECRET,
        "PGPASSWORD": OTHER_SECRET,  # an operator's own: children get the DSN's, or none
    }


def _assert_curated(header: str, child: dict[str, str]) -> None:
    maint = sorted(k for k in child if k.startswith("MAINT_"))
    assert maint == [], f"{header}: {maint}"
    for secret in (HISTORY_PW, FLOWER_PW, OTHER_SECRET):
        assert secret not in json.dumps(child), header
    unexpected = {
        k
        for k in child
        if k not in ALLOWED
        and not k.startswith(("LC_", "PG"))
        and not (header.startswith("hook") and k.startswith("RESTORE_HOOK_"))
    }
    assert unexpected == set(), f"{header}: {sorted(unexpected)}"


def test_a_backups_children_get_no_maint_variable_and_no_password_they_do_not_use(
    env: dict[str, str], tmp_path: Path, live: str
) -> None:
    res = run_cli("run", "backup.create", "-p", "tier=daily", "-p", "verify=full", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    children = _blocks(tmp_path / "children.log")
    names = [h.split()[0] for h, _ in children]
    assert "pg_dump" in names and "pg_restore" in names, names  # the dump and the decode
    for header, child in children:
        _assert_curated(header, child)
        connects = header.startswith("pg_dump") and "--version" not in header
        if connects:  # the dump: the target's libpq variables, its password as PGPASSWORD
            assert child["PGPASSWORD"] == TARGET_PW
            assert child["PGDATABASE"] == live
            assert [k for k, v in child.items() if TARGET_PW in v] == ["PGPASSWORD"]
        else:  # --version, and pg_restore decoding to stdout: no credentials at all
            assert TARGET_PW not in json.dumps(child), header
            assert "PGPASSWORD" not in child, header


def test_restore_hooks_get_their_context_and_nothing_secret(
    env: dict[str, str], tmp_path: Path, live: str
) -> None:
    res = run_cli("run", "backup.create", "-p", "tier=daily", "-p", "verify=none", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    backup_id = json.loads(run_cli("backups", "list", "--json", env=env).stdout)[0]["id"]
    log = tmp_path / "children.log"
    log.write_text("")
    res = run_cli("restore", backup_id, "--target", live, "--yes", env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    children = _blocks(log)
    hooks = {h: c for h, c in children if h.startswith("hook")}
    assert set(hooks) == {"hook stop", "hook start"}, [h for h, _ in children]
    for header, child in children:  # the forensic pg_dump, the loader's pg_restores, hooks
        _assert_curated(header, child)
    for phase, child in hooks.items():
        assert TARGET_PW not in json.dumps(child), phase
        assert not any(k.startswith("PG") for k in child), phase
        assert child["RESTORE_HOOK_PHASE"] == phase.split()[1]
        assert child["RESTORE_HOOK_DATABASE"] == live
        assert child["RESTORE_HOOK_BACKUP"] == backup_id
        assert child["RESTORE_HOOK_RUN_ID"].isdigit()
        assert "PATH" in child
