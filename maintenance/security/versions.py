"""Outdated packages, classified with the playbook's rule (pure).

The playbook (System Upgrades, step 3): "Patch updates (1.0.0 -> 1.0.1): can be done
immediately; minor updates (1.0.0 -> 1.1.0): test in staging first; major updates
(1.0.0 -> 2.0.0): require full testing". :func:`classify` takes an installed version and
the versions an index offers and says which class the newest one falls in. Pre-releases
are ignored unless the installed version is itself a pre-release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from packaging.version import InvalidVersion, Version


class UpdateClass(StrEnum):
    CURRENT = "current"
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"
    UNKNOWN = "unknown"  # the installed version, or every available one, does not parse


#: The playbook's advice for each class.
ADVICE: dict[UpdateClass, str] = {
    UpdateClass.CURRENT: "nothing to do",
    UpdateClass.PATCH: "patch update: can be done now",
    UpdateClass.MINOR: "minor update: test in staging first",
    UpdateClass.MAJOR: "major update: requires full testing",
    UpdateClass.UNKNOWN: "versions not comparable: look by hand",
}


@dataclass(frozen=True)
class Outdated:
    name: str
    installed: str
    latest: str | None
    kind: UpdateClass
    #: The newest version within the installed major.minor (a patch that can go now even
    #: when the newest release is a major one), if newer than the installed one.
    latest_patch: str | None = None

    @property
    def advice(self) -> str:
        return ADVICE[self.kind]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "installed": self.installed,
            "latest": self.latest,
            "class": self.kind.value,
            "latest_patch": self.latest_patch,
            "advice": self.advice,
        }


def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _parts(v: Version) -> tuple[int, int, int]:
    r = (*v.release, 0, 0)
    return r[0], r[1], r[2]


def kind_of(installed: Version, newer: Version) -> UpdateClass:
    """Which class the step ``installed`` -> ``newer`` is (``newer`` > ``installed``)."""
    a, b = _parts(installed), _parts(newer)
    if b[0] != a[0] or installed.epoch != newer.epoch:
        return UpdateClass.MAJOR
    if b[1] != a[1]:
        return UpdateClass.MINOR
    return UpdateClass.PATCH


def classify(name: str, installed: str, available: Iterable[str]) -> Outdated:
    """The newest of ``available`` against ``installed`` (see the module docstring)."""
    have = _parse(installed)
    if have is None:
        return Outdated(name, installed, None, UpdateClass.UNKNOWN)
    offered = [v for v in (_parse(a) for a in available) if v is not None]
    if not have.is_prerelease:
        offered = [v for v in offered if not v.is_prerelease]
    if not offered:
        return Outdated(name, installed, None, UpdateClass.UNKNOWN)
    newest = max(offered)
    if newest <= have:
        return Outdated(name, installed, str(newest), UpdateClass.CURRENT)
    same_line = [v for v in offered if v > have and _parts(v)[:2] == _parts(have)[:2]]
    patch = str(max(same_line)) if same_line else None
    return Outdated(name, installed, str(newest), kind_of(have, newest), patch)
