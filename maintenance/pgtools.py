"""The PostgreSQL client programs (pg_dump, pg_restore, psql) and how to run them.

A dump made by an older pg_dump than the server is refused by pg_dump itself; an
archive made by a newer pg_dump may not restore with an older pg_restore. We pick the
client whose major version matches the server: ``MAINT_PG_BIN_DIR`` if set, else
Debian's ``/usr/lib/postgresql/<major>/bin``, else ``PATH``, and check its version.
Credentials go through the environment (:func:`maintenance.pg.libpq_env`), never argv;
a child that connects nowhere gets no credentials at all (:mod:`maintenance.childenv`).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from maintenance import proc
from maintenance.config import Settings
from maintenance.errors import ConfigError

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def client_version(binary: str) -> tuple[int, str]:
    """(major, full text) of a client program's ``--version``."""
    try:
        done = proc.run([binary, "--version"], timeout=30)  # connects nowhere: no credentials
    except (OSError, proc.ChildTimeout) as exc:
        raise ConfigError(f"cannot run {binary} --version: {exc}") from None
    out = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0:
        raise ConfigError(
            f"cannot run {binary} --version: exit {done.returncode}: {done.stderr[:500]}"
        )
    match = _VERSION.search(out)
    if not match:
        raise ConfigError(f"cannot read the version of {binary}: {out!r}")
    return int(match.group(1)), out


def find(name: str, settings: Settings, server_major: int | None = None) -> str:
    """Path of client program ``name`` suited to a server of ``server_major``."""
    candidates: list[Path] = []
    if settings.pg_bin_dir is not None:
        candidates.append(settings.pg_bin_dir / name)
    elif server_major is not None:
        candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin") / name)
    found = next((str(c) for c in candidates if c.is_file()), None) or shutil.which(name)
    if found is None:
        where = f"MAINT_PG_BIN_DIR={settings.pg_bin_dir}" if settings.pg_bin_dir else "PATH"
        raise ConfigError(f"{name} not found in {where}: install postgresql-client")
    if server_major is not None:
        major, text = client_version(found)
        if major < server_major:
            raise ConfigError(
                f"{found} is version {major} ({text}); the server is {server_major}: "
                f"install postgresql-client-{server_major} or set MAINT_PG_BIN_DIR"
            )
    return found
