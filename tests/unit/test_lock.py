"""The lock files pin every dependency pyproject.toml names, within its range, with hashes;
the image's lock and the dev lock agree; and this venv holds exactly the dev lock."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=\S+)*)", re.M)


def parse_lock(text: str) -> dict[str, tuple[Version, frozenset[str]]]:
    """{normalized name: (pinned version, hashes)} of a pip-compile --generate-hashes file."""
    out: dict[str, tuple[Version, frozenset[str]]] = {}
    for m in _ENTRY.finditer(text):
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", m.group(3)))
        out[canonicalize_name(m.group(1))] = (Version(m.group(2)), hashes)
    return out


RUNTIME = parse_lock((ROOT / "requirements.lock").read_text())
DEV = parse_lock((ROOT / "requirements-dev.lock").read_text())

RUNTIME_REQS = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
DEV_REQS = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]]
BUILD_REQS = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]


def _missing_or_outside(
    reqs: list[Requirement], lock: dict[str, tuple[Version, frozenset[str]]]
) -> list[str]:
    problems = []
    for req in reqs:
        name = canonicalize_name(req.name)
        if name not in lock:
            problems.append(f"{req}: not pinned")
            continue
        version, hashes = lock[name]
        if version not in req.specifier:
            problems.append(f"{req}: pinned {version}, outside the range")
        if not hashes:
            problems.append(f"{req}: no hash")
    return problems


def test_the_parser_reads_a_pin_with_its_hashes_and_rejects_loose_lines() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    text = f"foo-bar==1.2.3 \\\n    --hash={a} \\\n    --hash={b}\n    # via x\nbaz>=2\nqux==0.1\n"
    parsed = parse_lock(text)
    assert parsed == {
        "foo-bar": (Version("1.2.3"), frozenset({a, b})),
        "qux": (Version("0.1"), frozenset()),
    }
    assert _missing_or_outside([Requirement("qux>=1"), Requirement("nope")], parsed) == [
        "qux>=1: pinned 0.1, outside the range",
        "qux>=1: no hash",
        "nope: not pinned",
    ]


def test_every_runtime_and_build_dependency_is_pinned_in_the_image_lock() -> None:
    assert _missing_or_outside(RUNTIME_REQS + BUILD_REQS, RUNTIME) == []


def test_every_dependency_and_dev_tool_is_pinned_in_the_dev_lock() -> None:
    assert _missing_or_outside(RUNTIME_REQS + DEV_REQS + BUILD_REQS, DEV) == []


def test_every_entry_of_both_locks_has_a_hash() -> None:
    for lock in (RUNTIME, DEV):
        assert lock and all(hashes for _, hashes in lock.values())


def test_the_dev_lock_pins_what_the_image_runs_identically() -> None:
    differ = {n: (RUNTIME[n], DEV.get(n)) for n in RUNTIME if DEV.get(n) != RUNTIME[n]}
    assert differ == {}
    dev_only = set(DEV) - set(RUNTIME)
    assert {canonicalize_name(r.name) for r in DEV_REQS} <= dev_only | set(RUNTIME)


@pytest.mark.parametrize("extra", ["redis"])
def test_extras_are_resolved_into_the_lock(extra: str) -> None:
    # celery[redis] needs the redis client: the lock holds it although extras are stripped.
    assert any(extra in r.extras for r in RUNTIME_REQS)
    assert canonicalize_name(extra) in RUNTIME


def test_this_venv_holds_exactly_the_dev_lock() -> None:
    """scripts/bootstrap installs from the lock and removes what it does not name."""
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in distributions()}
    installed.pop("residency-maintenance")
    locked = {name: version for name, (version, _) in DEV.items()}
    if "pip" not in locked:  # pip is venv's own unless a dependency needs it (pip-audit does)
        installed.pop("pip", None)
    assert {n: v for n, v in installed.items() if locked.get(n) != v} == {}
    assert set(locked) - set(installed) == set()
