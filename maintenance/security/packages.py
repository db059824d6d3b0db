"""What is installed: the suite's own environment and the backend's requirement files.

The backend's packages are what its requirement files pin (``name==version``); a line
that pins nothing (``flask>=2``, a URL, ``-e .``) is reported as such (:class:`Unpinned`)
and never guessed at. :func:`parse_requirements` is pure; :func:`read_requirements`
reads the files (following ``-r`` includes) and :func:`installed_here` this environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

#: The suite itself is not on any index.
OWN_DISTRIBUTION = "residency-maintenance"


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    source: str  # "installed" or "path:line"


@dataclass(frozen=True)
class Unpinned:
    line: str
    source: str
    why: str


@dataclass
class Requirements:
    pins: list[Pin] = field(default_factory=list)
    unpinned: list[Unpinned] = field(default_factory=list)
    #: Included files (``-r``) to read next, relative to the including one.
    includes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) with continuations joined and comments removed."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            out.append((start, whole))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def parse_requirements(text: str, source: str) -> Requirements:
    """Pins, unpinned lines and includes of one requirement file's text (pure)."""
    found = Requirements()
    for number, line in _logical_lines(text):
        where = f"{source}:{number}"
        include = re.match(r"^(?:-r|--requirement)(?:\s+|=)(\S+)", line)
        if include:
            found.includes.append(include.group(1))
            continue
        if line.startswith(("-e", "--editable")):
            found.unpinned.append(Unpinned(line, where, "editable install: no version to audit"))
            continue
        if line.startswith("-"):  # --index-url, --hash on its own, -c ...: not a package
            continue
        spec = re.split(r"\s+--?\w", line, maxsplit=1)[0].strip()  # drop --hash=... options
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            found.unpinned.append(Unpinned(line, where, "not a requirement pip-audit can read"))
            continue
        exact = [s for s in req.specifier if s.operator in ("==", "===")]
        if req.url or len(exact) != 1 or "*" in exact[0].version:
            why = "a URL" if req.url else f"not pinned to one version ({req.specifier or 'any'})"
            found.unpinned.append(Unpinned(line, where, why))
            continue
        found.pins.append(Pin(canonicalize_name(req.name), exact[0].version, where))
    return found


def read_requirements(paths: list[Path], *, max_files: int = 50) -> Requirements:
    """Every pin of the files and those they include (``-r``), each file read once."""
    total = Requirements()
    queue: list[Path] = list(paths)
    seen: set[Path] = set()
    while queue and len(seen) < max_files:
        path = queue.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            total.unreadable.append(f"{path}: {exc.strerror or exc}")
            continue
        part = parse_requirements(text, str(path))
        total.pins += part.pins
        total.unpinned += part.unpinned
        queue += [path.parent / inc for inc in part.includes]
    return total


def installed_here() -> list[Pin]:
    """The distributions of this environment (the suite's own packages), but the suite."""
    pins: dict[str, Pin] = {}
    for dist in distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name != OWN_DISTRIBUTION:
            pins[name] = Pin(name, dist.version, "installed")
    return sorted(pins.values(), key=lambda p: p.name)
