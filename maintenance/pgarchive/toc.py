"""The archive's head: its header and table of contents, written to a file of its own,
and what the loader reads from it (the data section's list, the foreign keys)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from maintenance.pgarchive import pgrestore
from maintenance.pgarchive.errors import LoadFailed

#: First guess of the archive's head (header + table of contents); grown while short.
HEAD_BYTES = 1 << 20

#: A line of ``pg_restore --list``: ``3434; 0 29592 TABLE DATA public t owner``.
LIST_LINE = re.compile(r"^\s*\d+;\s+\d+\s+\d+\s+(?P<rest>.*)$")
_ALTER_ADD = re.compile(
    rb"^ALTER TABLE (?:ONLY )?(?P<table>[^\n]+)\n    ADD CONSTRAINT (?P<rest>.*)$", re.M
)
_IDENT = rb'(?:"(?:[^"]|"")*"|[^\s".(]+)'
_FK_DEF = re.compile(
    rb"^"
    + _IDENT
    + rb" FOREIGN KEY \(.*?\) REFERENCES (?P<ref>"
    + _IDENT
    + rb"\."
    + _IDENT
    + rb")\("
)


def write_head(archive: Path, head: Path, pg_restore: str, env: dict[str, str]) -> list[str]:
    """Write the archive's head (header + TOC) to ``head``; return the data section's
    list (``pg_restore -l`` lines). Grows the head until pg_restore reads the whole TOC."""
    chunks = pgrestore.decompressed(archive)
    want, written, done = HEAD_BYTES, 0, False
    fd = os.open(head, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                while written < want and not done:
                    try:
                        piece = next(chunks)
                    except StopIteration:
                        done = True
                        break
                    out.write(piece)
                    written += len(piece)
                out.flush()
                listed = pgrestore.run(
                    [pg_restore, "--list", "--section=data", str(head)],
                    env,
                    "reading the table of contents",
                    check=False,
                )
                if listed.returncode == 0:
                    return [
                        line
                        for line in listed.stdout.decode(errors="replace").splitlines()
                        if LIST_LINE.match(line)
                    ]
                message = pgrestore.message(listed.stderr)
                if done or "end of file" not in message:
                    raise LoadFailed(f"{archive.name} is not a readable archive: {message}")
                want *= 4
    except OSError as exc:
        raise LoadFailed(
            f"writing the archive's head in {head.parent}: {exc.strerror or exc}"
        ) from None
    finally:
        chunks.close()


def foreign_keys(post_sql: bytes) -> list[tuple[bytes, bytes | None]]:
    """(table, referenced table) of every foreign key in the post-data script, names as
    the archive spells them; referenced None where the definition did not parse."""
    out: list[tuple[bytes, bytes | None]] = []
    for m in _ALTER_ADD.finditer(post_sql):
        rest = m.group("rest")
        if b" FOREIGN KEY " in rest:
            ref = _FK_DEF.match(rest)
            out.append((m.group("table"), ref.group("ref") if ref else None))
    return out


def desc(line: str) -> str:
    """``3434; 0 29592 TABLE DATA public t owner`` -> ``TABLE DATA public t owner``."""
    match = LIST_LINE.match(line)
    return match.group("rest") if match else ""
