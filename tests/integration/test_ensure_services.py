"""scripts/ensure-services against servers of its own: a Debian-style scratch PostgreSQL
cluster with password authentication (pg_createcluster, configuration under a temp
PG_CLUSTER_CONF_ROOT, another port) and Redis servers on other ports. The machine's own
PostgreSQL and Redis are only read (the script checks them as it always does)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "scripts" / "ensure-services"
MARK = "# added by residency-maintenance scripts/ensure-services"
#: What the script's older versions put at the top of pg_hba.conf (and never loaded).
LEGACY_LINES = "host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
PSQL = ("psql", "-w", "-X", "-Atq", "-h", "127.0.0.1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_script(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- PostgreSQL ------------------------------------------------------------------------


@dataclass
class Cluster:
    version: str
    port: int
    conf_root: Path
    hba: Path

    @property
    def env(self) -> dict[str, str]:
        return {"PG_CLUSTER_CONF_ROOT": str(self.conf_root), "ENSURE_PG_PORT": str(self.port)}

    def ctl(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", self.version, "scratch", action],
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
        )

    def login_error(self) -> str:
        """What the suite's default connection gets: nothing when it connects."""
        env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGSERVICE")}
        proc = subprocess.run(
            [*PSQL, "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"],
            env={**env, "PGPASSFILE": "/nonexistent/pgpass", "PGCONNECT_TIMEOUT": "5"},
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stderr.strip() if proc.returncode else ""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster as a fresh Debian package makes it: scram-sha-256 for 127.0.0.1, running."""
    version = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
    owner = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    tmp = Path(tempfile.mkdtemp(prefix="maint-test-pg-"))
    tmp.chmod(0o755)
    shutil.chown(tmp, owner)
    port = _free_port()
    c = Cluster(version, port, tmp / "etc", tmp / "etc" / version / "scratch" / "pg_hba.conf")
    c.conf_root.mkdir()
    auth = (version, "scratch", "--", "--auth-host=scram-sha-256", "--auth-local=peer")
    where = ("-d", str(tmp / "data"), "-l", str(tmp / "log"), "-s", str(tmp), "-p", str(port))
    subprocess.run(
        ["pg_createcluster", "-u", owner, *where, "-o", f"external_pid_file={tmp / 'pid'}", *auth],
        env={**os.environ, **c.env},
        check=True,
        capture_output=True,
    )
    try:
        c.ctl("start")
        yield c
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, "scratch"],
            env={**os.environ, **c.env},
            check=False,
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def _prepend(path: Path, text: str) -> None:
    path.write_text(text + path.read_text())


@pytest.mark.parametrize(
    "ours",
    [LEGACY_LINES, f"{MARK}\nhost all postgres 127.0.0.1/32 trust\n"],
    ids=["lines-of-older-versions", "marked-lines"],
)
def test_trust_lines_written_but_never_loaded_are_reloaded(cluster: Cluster, ours: str) -> None:
    """The fresh-Debian defect: lines added to a running cluster's pg_hba.conf, no reload."""
    _prepend(cluster.hba, ours)
    assert "no password supplied" in cluster.login_error()  # the file alone changes nothing
    proc = run_script(**cluster.env)
    assert proc.returncode == 0, proc.stderr
    assert cluster.login_error() == ""
    assert f"reloading PostgreSQL {cluster.version}/scratch" in proc.stdout
    assert (
        f"PostgreSQL on 127.0.0.1:{cluster.port}: PostgreSQL {cluster.version} cluster scratch"
        in (proc.stdout)
    )


def test_a_stopped_cluster_of_ours_is_started_and_the_default_user_connects(
    cluster: Cluster,
) -> None:
    _prepend(cluster.hba, f"{MARK}\nhost all postgres 127.0.0.1/32 trust\n")
    cluster.ctl("stop")
    proc = run_script(**cluster.env)
    assert proc.returncode == 0, proc.stderr
    assert f"starting PostgreSQL {cluster.version} cluster scratch" in proc.stdout
    assert cluster.login_error() == ""


def test_a_cluster_it_did_not_install_is_left_alone_with_what_to_do(cluster: Cluster) -> None:
    before = cluster.hba.read_bytes()
    proc = run_script(**cluster.env)
    assert proc.returncode == 1
    err = proc.stderr
    assert "fe_sendauth: no password supplied" in err
    assert "the suite's default user cannot connect" in err
    assert f"left\n  {cluster.hba} alone" in err
    assert f"pg_ctlcluster {cluster.version} scratch reload" in err
    assert "MAINT_TEST_PG=" in err
    assert cluster.hba.read_bytes() == before  # nothing changed
    assert "no password supplied" in cluster.login_error()


# --- Redis -----------------------------------------------------------------------------


def _redis_pid(port: int) -> int | None:
    proc = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "info", "server"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":", 1)[1])
    return None


@pytest.fixture
def redis_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="maint-test-redis-"))
    try:
        yield path
    finally:
        for pidfile in path.glob("*.pid"):  # a server the script started and a test left
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(path, ignore_errors=True)


def test_a_redis_it_did_not_start_is_used_and_named(redis_dir: Path) -> None:
    port = _free_port()
    files = ("--dir", str(redis_dir), "--logfile", str(redis_dir / "theirs.log"))
    theirs = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", *files],
        start_new_session=True,
    )
    try:
        wait_for(lambda: _redis_pid(port) == theirs.pid, timeout=20, what="a Redis of our own")
        proc = run_script(ENSURE_REDIS_PORT=str(port), ENSURE_REDIS_DIR=str(redis_dir))
        assert proc.returncode == 0, proc.stderr
        assert "starting Redis" not in proc.stdout
        line = next(x for x in proc.stdout.splitlines() if f"Redis on 127.0.0.1:{port}" in x)
        assert f"pid {theirs.pid} " in line and "not started by this script" in line
        assert not list(redis_dir.glob("*.pid"))  # it started no server of its own
    finally:
        theirs.terminate()
        theirs.wait(timeout=20)


def test_with_no_redis_it_starts_one_and_says_so(redis_dir: Path) -> None:
    port = _free_port()
    proc = run_script(ENSURE_REDIS_PORT=str(port), ENSURE_REDIS_DIR=str(redis_dir))
    assert proc.returncode == 0, proc.stderr
    pid = _redis_pid(port)
    assert pid is not None
    assert (redis_dir / f"maint-redis-{port}.pid").read_text().strip() == str(pid)
    assert f"starting Redis on 127.0.0.1:{port}" in proc.stdout
    assert f"pid {pid} " in proc.stdout and "started by this script" in proc.stdout
    assert "not started by this script" not in proc.stdout
    # run again: the server it started is found and used, not started twice
    again = run_script(ENSURE_REDIS_PORT=str(port), ENSURE_REDIS_DIR=str(redis_dir))
    assert again.returncode == 0 and "starting Redis" not in again.stdout
    assert _redis_pid(port) == pid


def test_a_redis_that_cannot_bind_fails_loudly_with_the_reason(redis_dir: Path) -> None:
    port = _free_port()
    with socket.socket() as squatter:  # something that is not Redis holds the port
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        proc = run_script(ENSURE_REDIS_PORT=str(port), ENSURE_REDIS_DIR=str(redis_dir))
    assert proc.returncode == 1
    assert f"the Redis this script started did not come up on 127.0.0.1:{port}" in proc.stderr
    assert "Address already in use" in proc.stderr
    assert "PostgreSQL and Redis answer" not in proc.stdout
