"""The environment of every child process the suite starts.

A worker's environment holds every ``MAINT_`` setting (``MAINT_TARGET_DSN`` and
``MAINT_HISTORY_DSN`` with their passwords among them) and whatever else its host put
there. A child gets none of that: :func:`child_env` passes an allow-list of the
parent's variables, :data:`INHERITED` and ``LC_*``, plus what the caller says the child
needs:

* a libpq client (pg_dump, pg_restore ...) gets the ``PG*`` variables of the one
  database it connects to (:func:`maintenance.pg.libpq_env`), its password as
  ``PGPASSWORD`` and never in argv; the parent's other libpq settings (``PGSSLROOTCERT``,
  ``PGPASSFILE`` ...) pass too, its own ``PGHOST``/``PGUSER``/``PGPASSWORD``... never;
* a client that connects nowhere (``--version``, pg_restore decoding to stdout) gets no
  ``PG*`` variable at all;
* a restore hook gets its ``RESTORE_HOOK_*`` context (see maintenance/restore/run.py).

No child ever gets a ``MAINT_`` variable: those are the suite's settings, and a child
that runs ``maint`` itself must be given its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The parent's variables every child inherits (when set), besides ``LC_*``.
INHERITED = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR")

#: libpq variables that say which server, database and user: they come from the DSN only.
LIBPQ_IDENTITY = (
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
)


def child_env(
    extra: Mapping[str, str] | None = None,
    *,
    libpq: bool = False,
    parent: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a child process: the allow-list of ``parent`` (default: this
    process's environment), with ``libpq``, the parent's libpq settings other than
    :data:`LIBPQ_IDENTITY`, then ``extra``.

    Raise ValueError if ``extra`` holds a ``MAINT_`` variable.
    """
    source = os.environ if parent is None else parent
    env = {k: v for k, v in source.items() if k in INHERITED or k.startswith("LC_")}
    if libpq:
        env.update(
            (k, v) for k, v in source.items() if k.startswith("PG") and k not in LIBPQ_IDENTITY
        )
    for key, value in (extra or {}).items():
        if key.startswith("MAINT_"):
            raise ValueError(f"{key}: a child process never gets a MAINT_ setting")
        env[key] = value
    return env
