"""security.audit against a local OSV-style server and a local simple index (no internet),
the real target PostgreSQL and the cache's Redis."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from maintenance.security import eol
from tests.conftest import run_cli
from tests.integration.cache_support import with_settings

pytestmark = pytest.mark.integration

RICH = version("rich")
VULN_ID = "GHSA-test-0000-0001"


class Fixture(ThreadingHTTPServer):
    vulns: dict[tuple[str, str], list[dict]]  # type: ignore[type-arg]
    index: dict[str, list[str]]
    queries: list[dict]  # type: ignore[type-arg]


class Handler(BaseHTTPRequestHandler):
    server: Fixture

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: object, ctype: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # pip-audit's OsvService: one POST per package
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append(query)
        key = (query["package"]["name"], query["version"])
        found = self.server.vulns.get(key)
        self._send(200, {"vulns": found} if found else {})

    def do_GET(self) -> None:  # PEP 691 simple index
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "simple" and parts[1] in self.server.index:
            body = {
                "meta": {"api-version": "1.1"},
                "name": parts[1],
                "files": [],
                "versions": self.server.index[parts[1]],
            }
            self._send(200, body, "application/vnd.pypi.simple.v1+json")
        else:
            self._send(404, {})


@pytest.fixture
def fixture_server() -> Iterator[Fixture]:
    server = Fixture(("127.0.0.1", 0), Handler)
    server.vulns = {
        ("rich", RICH): [
            {
                "id": VULN_ID,
                "aliases": ["CVE-2099-0001"],
                "summary": "a test vulnerability",
                "affected": [
                    {
                        "package": {"name": "rich", "ecosystem": "PyPI"},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "999.0"}],
                            }
                        ],
                    }
                ],
            }
        ],
        ("flask", "1.0.0"): [],
    }
    major, minor, *_ = (int(x) for x in RICH.split(".")) if RICH.count(".") >= 1 else (0, 0)
    server.index = {
        "rich": [RICH, f"{major}.{minor}.99", f"{major}.{minor}.100rc1"],
        "flask": ["0.9", "1.0.0", "1.0.5", "1.2.0", "2.0.0", "3.0.0b1"],
        "itsdangerous": ["2.0.0"],
    }
    server.queries = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _checks(out: runner.Outcome) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]


def _requirements(tmp_path: Path) -> Path:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "flask==1.0.0  # the web framework\nitsdangerous==2.0.0 \\\n  --hash=sha256:00\nrequests>=2\n"
    )
    return req


def test_the_audit_reports_the_fixture_vulnerability_and_classifies_outdated(
    settings: Settings, clean_history: str, target_db: str, fixture_server: Fixture, tmp_path: Path
) -> None:
    port = fixture_server.server_address[1]
    s = with_settings(
        settings,
        security_osv_url=f"http://127.0.0.1:{port}/v1/query",
        security_index_url=f"http://127.0.0.1:{port}/simple",
        security_requirement_files=[_requirements(tmp_path)],
    )
    out = runner.execute(catalog.get("security.audit"), {}, settings=s, trigger=Trigger.CLI)
    checks = _checks(out)
    own = checks["no known vulnerabilities (the suite's installed packages)"]
    assert own["status"] == "fail" and f"rich {RICH} " in own["observed"]
    assert checks["no known vulnerabilities (the backend's pins)"]["status"] == "pass"
    assert out.status is RunStatus.FAILED
    figures = out.result["figures"]  # type: ignore[index]
    (vuln,) = figures["vulnerabilities"]
    assert (vuln["package"], vuln["version"], vuln["fix_versions"]) == ("rich", RICH, ["999.0"])
    assert {vuln["id"], *vuln["aliases"]} == {VULN_ID, "CVE-2099-0001"}
    # pip-audit asked the fixture for exactly the backend's pins (no resolution, no deps)
    asked = {(q["package"]["name"], q["version"]) for q in fixture_server.queries}
    assert {("flask", "1.0.0"), ("itsdangerous", "2.0.0")} <= asked
    classes = {o["name"]: o for o in figures["outdated"]}
    assert classes["flask"]["class"] == "major" and classes["flask"]["latest"] == "2.0.0"
    assert classes["flask"]["latest_patch"] == "1.0.5"
    assert classes["flask"]["advice"] == "major update: requires full testing"
    assert classes["rich"]["class"] == "patch" and classes["rich"]["advice"].endswith(
        "can be done now"
    )
    assert "itsdangerous" not in classes  # current
    unpinned = checks["backend requirements pinned (name==version)"]
    assert unpinned["status"] == "warn" and "requests>=2" in unpinned["observed"]
    # the servers against the shipped table, whatever their versions are
    table = eol.load()
    assert {sv["product"] for sv in figures["servers"]} == {"postgresql", "redis"}
    for server in figures["servers"]:
        known, end = table.end_of(server["product"], server["line"])
        assert server["known"] == known and server["end_of_life"] == (
            end.isoformat() if end else None
        )


def test_an_unreachable_index_is_a_plain_warning_never_a_pass(
    settings: Settings, clean_history: str, tmp_path: Path
) -> None:
    port = _closed_port()
    s = with_settings(
        settings,
        security_osv_url=f"http://127.0.0.1:{port}/v1/query",
        security_index_url=f"http://127.0.0.1:{port}/simple",
        security_requirement_files=[_requirements(tmp_path)],
    )
    out = runner.execute(catalog.get("security.audit"), {}, settings=s, trigger=Trigger.CLI)
    checks = _checks(out)
    assert not [n for n in checks if n.startswith("no known vulnerabilities")]
    for what in ("the suite's installed packages", "the backend's pins"):
        check = checks[f"vulnerability index answered ({what})"]
        assert check["status"] == "warn"
        assert check["observed"].startswith("index unreachable")
        assert "not a pass" in check["detail"]
    assert checks["package index answered"]["status"] == "warn"
    assert checks["packages up to date"]["status"] == "warn"
    assert "NOT CHECKED" in out.summary


def test_maint_security_audit_prints_the_tables_and_json(
    maint_env: dict[str, str],
    clean_history: str,
    target_db: str,
    fixture_server: Fixture,
    tmp_path: Path,
) -> None:
    port = fixture_server.server_address[1]
    env = maint_env | {
        "MAINT_SECURITY_OSV_URL": f"http://127.0.0.1:{port}/v1/query",
        "MAINT_SECURITY_INDEX_URL": f"http://127.0.0.1:{port}/simple",
        "MAINT_SECURITY_REQUIREMENT_FILES": json.dumps([str(_requirements(tmp_path))]),
        "COLUMNS": "160",
    }
    done = run_cli("security", "audit", env=env)
    assert done.returncode == 1, done.stderr
    for text in (
        "known vulnerabilities",
        "CVE-2099-0001",
        "outdated packages",
        "flask",
        "server end of life",
    ):
        assert text in done.stdout
    done = run_cli("security", "audit", "--json", env=env)
    data = json.loads(done.stdout)
    assert data["exit_code"] == 1 and data["task"] == "security.audit"
    assert data["result"]["figures"]["vulnerabilities"][0]["package"] == "rich"
