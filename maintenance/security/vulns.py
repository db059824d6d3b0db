"""Known vulnerabilities, by pip-audit run as a child process (maintenance/proc.py).

pip-audit exits 1 both when it found vulnerabilities and when it failed (the index did
not answer, a file it could not read): the two are told apart by its output, never by the
exit status (design.md's trap). JSON with a ``dependencies`` list is an audit; anything
else is a failure, whose reason comes from its stderr: :func:`interpret` is pure.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maintenance import childenv, proc, redact
from maintenance.security.packages import OWN_DISTRIBUTION, Pin

#: What a proxied or private-CA site needs to reach its index; passed on when set.
NETWORK_VARIABLES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
)

_UNREACHABLE_HINTS = (
    "ConnectionError",
    "Could not connect",
    "Connection refused",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "timed out",
    "ServiceError",
)


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "id": self.id,
            "aliases": list(self.aliases),
            "fix_versions": list(self.fix_versions),
            "description": self.description[:300],
            "source": self.source,
        }


@dataclass
class AuditOutcome:
    """One pip-audit run: what it audited and found, or why it could not."""

    source: str
    audited: int = 0
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: None: the audit ran. Otherwise why it did not (the index unreachable ...).
    failure: str | None = None
    unreachable: bool = False


def interpret(source: str, returncode: int, stdout: str, stderr: str) -> AuditOutcome:
    """What a pip-audit run said (pure; see the module docstring)."""
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower() or "Error" in ln] or lines
        reason = errors[-1] if errors else f"pip-audit exited {returncode} with no output"
        unreachable = any(h in stderr for h in _UNREACHABLE_HINTS)
        return AuditOutcome(source, failure=redact.scrub(reason)[:500], unreachable=unreachable)
    outcome = AuditOutcome(source)
    for dep in data["dependencies"]:
        name = str(dep.get("name", "?"))
        if "skip_reason" in dep:
            if name != OWN_DISTRIBUTION:
                outcome.skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        outcome.audited += 1
        for v in dep.get("vulns") or []:
            outcome.vulnerabilities.append(
                Vulnerability(
                    package=name,
                    version=str(dep.get("version", "?")),
                    id=str(v.get("id", "?")),
                    aliases=tuple(str(a) for a in v.get("aliases") or ()),
                    fix_versions=tuple(str(f) for f in v.get("fix_versions") or ()),
                    description=str(v.get("description") or ""),
                    source=source,
                )
            )
    return outcome


def _env() -> dict[str, str]:
    extra = {k: v for k, v in os.environ.items() if k in NETWORK_VARIABLES}
    return childenv.child_env(extra)


def command(osv_url: str, cache_dir: Path, timeout_s: float, target: Sequence[str]) -> list[str]:
    """pip-audit's argv: OSV at ``osv_url``, JSON on stdout, no spinner, its own cache."""
    return [
        sys.executable,
        "-m",
        "pip_audit",
        "--vulnerability-service",
        "osv",
        "--osv-url",
        osv_url,
        "--format",
        "json",
        "--desc",
        "on",
        "--aliases",
        "on",
        "--progress-spinner",
        "off",
        "--cache-dir",
        str(cache_dir),
        "--timeout",
        str(max(1, int(timeout_s))),
        *target,
    ]


def audit_environment(osv_url: str, *, http_timeout_s: float, timeout_s: float) -> AuditOutcome:
    """pip-audit of this environment's packages (the suite's own: ``--local``)."""
    return _run("installed", osv_url, ["--local"], None, http_timeout_s, timeout_s)


def audit_pins(
    pins: Sequence[Pin], osv_url: str, *, http_timeout_s: float, timeout_s: float
) -> AuditOutcome:
    """pip-audit of pinned versions (the backend's), exactly those: ``--no-deps``."""
    text = "".join(f"{p.name}=={p.version}\n" for p in pins)
    return _run("requirements", osv_url, None, text, http_timeout_s, timeout_s)


def _run(
    source: str,
    osv_url: str,
    target: list[str] | None,
    requirements: str | None,
    http_timeout_s: float,
    timeout_s: float,
) -> AuditOutcome:
    with tempfile.TemporaryDirectory(prefix="maint-audit-") as tmp:
        if requirements is not None:
            req = Path(tmp) / "requirements.txt"
            req.write_text(requirements, encoding="utf-8")
            target = ["--requirement", str(req), "--no-deps", "--disable-pip"]
        argv = command(osv_url, Path(tmp) / "cache", http_timeout_s, target or [])
        try:
            done = proc.run(argv, env=_env(), timeout=timeout_s, name="pip-audit")
        except proc.ChildTimeout as exc:
            return AuditOutcome(source, failure=str(exc), unreachable=False)
        except OSError as exc:
            return AuditOutcome(source, failure=f"pip-audit could not start: {exc}")
    return interpret(source, done.returncode, done.stdout.decode(errors="replace"), done.stderr)
