"""The security area's pure decisions: version classes, requirement lines, pip-audit's
output, end of life, access findings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from maintenance.results import CheckStatus
from maintenance.security import access_rules as rules
from maintenance.security import eol
from maintenance.security.findings import Severity
from maintenance.security.packages import parse_requirements
from maintenance.security.versions import UpdateClass, classify
from maintenance.security.vulns import interpret

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("installed", "available", "kind", "latest"),
    [
        ("1.0.0", ["1.0.1"], UpdateClass.PATCH, "1.0.1"),
        ("1.0.0", ["1.0.1", "1.1.0"], UpdateClass.MINOR, "1.1.0"),
        ("1.0.0", ["1.1.0", "2.0.0"], UpdateClass.MAJOR, "2.0.0"),
        ("1.0.0", ["1.0.0", "0.9"], UpdateClass.CURRENT, "1.0.0"),
        ("1.0.0", ["2.0.0rc1", "1.0.0"], UpdateClass.CURRENT, "1.0.0"),  # pre-release ignored
        ("2.0b1", ["2.0b2"], UpdateClass.PATCH, "2.0b2"),  # unless installed is one
        ("1.0", ["1.0.2"], UpdateClass.PATCH, "1.0.2"),
        ("not-a-version", ["1.0"], UpdateClass.UNKNOWN, None),
    ],
)
def test_classify(
    installed: str, available: list[str], kind: UpdateClass, latest: str | None
) -> None:
    out = classify("x", installed, available)
    assert (out.kind, out.latest) == (kind, latest)


def test_a_major_release_still_names_the_patch_of_its_own_line() -> None:
    out = classify("x", "1.2.3", ["1.2.4", "1.2.9", "1.3.0", "3.0.0"])
    assert (out.kind, out.latest_patch) == (UpdateClass.MAJOR, "1.2.9")
    assert out.advice == "major update: requires full testing"


def test_requirement_lines_pinned_or_reported() -> None:
    text = (
        "# comment\nFlask[async]==2.0.1 ; python_version >= '3.8'\n"
        "itsdangerous==2.0.0 \\\n    --hash=sha256:aa\nrequests>=2\n-e .\n"
        "-r base.txt\n--index-url https://x\nfoo==1.*\ngit+https://x/y.git\n"
    )
    found = parse_requirements(text, "req.txt")
    assert [(p.name, p.version) for p in found.pins] == [
        ("flask", "2.0.1"),
        ("itsdangerous", "2.0.0"),
    ]
    assert [u.line for u in found.unpinned] == [
        "requests>=2",
        "-e .",
        "foo==1.*",
        "git+https://x/y.git",
    ]
    assert found.includes == ["base.txt"]
    assert found.pins[1].source == "req.txt:3"


def test_pip_audit_exit_1_with_json_is_an_audit_and_without_it_a_failure() -> None:
    data = {
        "dependencies": [
            {
                "name": "rich",
                "version": "1.0",
                "vulns": [{"id": "X-1", "fix_versions": ["1.1"], "aliases": ["CVE-1"]}],
            },
            {"name": "ok", "version": "2.0", "vulns": []},
            {"name": "residency-maintenance", "skip_reason": "not on PyPI"},
        ],
        "fixes": [],
    }
    audit = interpret("installed", 1, json.dumps(data), "Found 1 known vulnerability")
    assert audit.failure is None and audit.audited == 2 and audit.skipped == []
    assert [(v.package, v.id, v.fix_versions) for v in audit.vulnerabilities] == [
        ("rich", "X-1", ("1.1",))
    ]
    failed = interpret(
        "installed",
        1,
        "",
        "Traceback ...\nrequests.exceptions.ConnectionError: Max retries exceeded",
    )
    assert failed.failure is not None and failed.unreachable
    assert failed.vulnerabilities == []
    other = interpret("requirements", 1, "", "ERROR:pip_audit._cli:invalid requirement")
    assert other.failure == "ERROR:pip_audit._cli:invalid requirement" and not other.unreachable


def _table() -> eol.Table:
    return eol.Table.from_dict(
        {
            "written": "2026-01-01",
            "postgresql": {
                "releases": {"14": "2026-11-12", "15": "2027-03-01", "16": "2028-11-09"}
            },
            "redis": {"releases": {"8.0": None}},
        }
    )


@pytest.mark.parametrize(
    ("product", "version", "status"),
    [
        ("postgresql", "14.9", CheckStatus.FAIL),
        ("postgresql", "15.8", CheckStatus.WARN),  # within 183 days
        ("postgresql", "16.1", CheckStatus.PASS),
        ("postgresql", "12.3", CheckStatus.WARN),  # unknown line
        ("redis", "8.0.2", CheckStatus.PASS),  # no date announced
    ],
)
def test_end_of_life(product: str, version: str, status: CheckStatus) -> None:
    assert eol.assess(_table(), product, "s", version, NOW, 183).status is status


def test_the_shipped_table_and_its_age() -> None:
    table = eol.load()
    assert table.written == date(2026, 12, 1)
    assert table.end_of("postgresql", "18")[0] and table.end_of("redis", "7.2")[0]
    assert eol.table_age(table, NOW)[0]
    assert not eol.table_age(table, NOW + timedelta(days=400))[0]
    assert eol.postgres_version(150008) == "15.8"


def test_role_findings() -> None:
    roles = [
        rules.Role("postgres", True, True, None, True, bootstrap=True),
        rules.Role("admin", True, True, None, True),
        rules.Role("app", False, True, NOW + timedelta(days=30), False),
        rules.Role("group", False, False, None, None),
    ]
    found = rules.role_findings(
        roles, ["line 2: host all all 0.0.0.0/0"], rules.RoleHistory(0, None, frozenset()), NOW, 90
    )
    got = {(f.subject, f.what): f.severity for f in found}
    assert got[("postgres", "superuser that can log in")] is Severity.MEDIUM
    assert got[("admin", "superuser that can log in")] is Severity.HIGH
    assert got[("app", "login role without a password")] is Severity.MEDIUM
    assert got[("admin", "password never expires")] is Severity.LOW
    assert ("app", "password never expires") not in got
    assert not [f for f in found if f.subject == "group"]
    assert (
        got[("line 2: host all all 0.0.0.0/0", "pg_hba.conf trusts connections without a password")]
        is Severity.HIGH
    )
    assert got[("", "roles not seen: not tracked yet")] is Severity.INFO


def test_unseen_roles_only_once_the_reviews_span_the_period() -> None:
    roles = [rules.Role("app", False, True, None, True), rules.Role("old", False, True, None, True)]
    short = rules.RoleHistory(3, NOW - timedelta(days=30), frozenset({"app"}))
    assert rules.unseen_findings(roles, short, NOW, 90)[0].what == "roles not seen: not tracked yet"
    long = rules.RoleHistory(4, NOW - timedelta(days=120), frozenset({"app"}))
    assert [f.subject for f in rules.unseen_findings(roles, long, NOW, 90)] == ["old"]


def test_redis_and_flower_findings() -> None:
    assert rules.redis_findings(rules.RedisFacts("r", True, None))[0].severity is Severity.HIGH
    assert (
        rules.redis_findings(rules.RedisFacts("r", False, ["user default on #abc ~* +@all"])) == []
    )
    acl = rules.redis_findings(rules.RedisFacts("r", False, ["user app on nopass ~* +@all"]))
    assert acl[0].what == "ACL user app has no password"
    assert (
        rules.redis_findings(rules.RedisFacts("r", None, None, "refused"))[0].severity
        is Severity.MEDIUM
    )
    assert {f.severity for f in rules.flower_findings(False, "http://f", 200)} == {
        Severity.HIGH,
        Severity.CRITICAL,
    }
    assert [f.severity for f in rules.flower_findings(True, "http://f", 401)] == []


@pytest.mark.parametrize(
    ("role", "mode", "uid", "severity"),
    [
        ("backup root", 0o40700, 1000, None),
        ("backup root", 0o40750, 1000, Severity.HIGH),
        ("log root", 0o40755, 1000, Severity.MEDIUM),
        ("log root", 0o40777, 1000, Severity.HIGH),
        ("secret MAINT_X_FILE", 0o100600, 1000, None),
        ("secret MAINT_X_FILE", 0o100400, 0, None),
        ("secret MAINT_X_FILE", 0o100640, 1000, Severity.HIGH),
        ("secret MAINT_X_FILE", 0o100644, 1000, Severity.CRITICAL),
        ("secret MAINT_X_FILE", 0o100600, 4242, Severity.MEDIUM),
    ],
)
def test_file_findings(role: str, mode: int, uid: int, severity: Severity | None) -> None:
    found = rules.file_findings(rules.FileFacts(role, "/p", mode, uid, False, 1000))
    assert [f.severity for f in found] == ([severity] if severity else [])
