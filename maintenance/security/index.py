"""Available versions of packages, from a simple package index (PEP 503/691).

``GET {index}/{name}/`` asking for PEP 691 JSON (``application/vnd.pypi.simple.v1+json``):
its ``versions`` key (PEP 700), else the versions in its file names; an index that
answers HTML (an older mirror) is read from its links' file names. Requests are bounded
in time, run a few at once, and never raise: each package gets its versions or the
reason it has none, so one failure never hides the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from packaging.utils import canonicalize_name

from maintenance import redact

ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_ARCHIVE = re.compile(r"\.(tar\.gz|tar\.bz2|tar\.xz|zip|tgz|whl|egg)$")


@dataclass(frozen=True)
class Lookup:
    name: str
    versions: tuple[str, ...] = ()
    #: Why there are no versions (None: the index answered).
    error: str | None = None
    #: The index could not be reached at all (not a 404 for one package).
    unreachable: bool = False


def version_from_filename(name: str, filename: str) -> str | None:
    """The version in a distribution's file name (``foo_bar-1.2.tar.gz``, a wheel), if any."""
    stem = _ARCHIVE.sub("", filename)
    if filename.endswith(".whl"):
        parts = stem.split("-")
        return parts[1] if len(parts) >= 5 else None
    want = canonicalize_name(name)
    for i, ch in enumerate(stem):
        if ch == "-" and canonicalize_name(stem[:i]) == want:
            return stem[i + 1 :] or None
    return None


def versions_of(name: str, body: Any, content_type: str, text: str) -> tuple[str, ...]:
    """The versions of one project page (pure)."""
    if "json" in content_type and isinstance(body, dict):
        if isinstance(body.get("versions"), list):
            return tuple(str(v) for v in body["versions"])
        files = body.get("files") or []
        found = {version_from_filename(name, str(f.get("filename", ""))) for f in files}
        return tuple(sorted(v for v in found if v))
    anchors = re.findall(r"<a\b[^>]*>([^<]+)</a>", text, re.I)
    found = {version_from_filename(name, a.strip()) for a in anchors}
    return tuple(sorted(v for v in found if v))


def lookup(client: httpx.Client, index_url: str, name: str) -> Lookup:
    url = f"{index_url.rstrip('/')}/{canonicalize_name(name)}/"
    try:
        response = client.get(url, headers={"Accept": ACCEPT})
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Lookup(
            name, error=f"index not reachable: {redact.scrub(str(exc))}", unreachable=True
        )
    except httpx.HTTPError as exc:
        return Lookup(name, error=f"{type(exc).__name__}: {redact.scrub(str(exc))}")
    if response.status_code == 404:
        return Lookup(name, error="not on the index")
    if response.status_code != 200:
        return Lookup(name, error=f"index answered HTTP {response.status_code}")
    ctype = response.headers.get("content-type", "")
    try:
        body = response.json() if "json" in ctype else None
    except ValueError:
        return Lookup(name, error="index answered JSON that does not parse")
    return Lookup(name, versions_of(name, body, ctype, response.text))


def lookup_all(
    names: Iterable[str], index_url: str, *, timeout: float, concurrency: int
) -> dict[str, Lookup]:
    """{name: Lookup} of every name, ``concurrency`` requests at a time."""
    unique = sorted(set(names))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with (
        httpx.Client(
            timeout=httpx.Timeout(timeout), limits=limits, follow_redirects=True
        ) as client,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="index") as pool,
    ):
        found = pool.map(lambda n: lookup(client, index_url, n), unique)
        return {item.name: item for item in found}
