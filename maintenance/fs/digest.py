"""The one hasher: SHA-256 and a byte count, in 1 MiB chunks, of a file, of bytes, or of
a stream while it is read or written (so a copy is hashed in the same pass)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


class Digest:
    """A running SHA-256 and byte count."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.bytes = 0

    def update(self, data: bytes) -> None:
        self._sha.update(data)
        self.bytes += len(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class HashingReader(Digest):
    """Hashes what is read through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        super().__init__()
        self.handle = handle

    def read(self, n: int = -1, /) -> bytes:
        data = self.handle.read(n)
        self.update(data)
        return data


class HashingWriter(Digest):
    """Hashes what is written through it."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__()
        self.out = out

    def write(self, data: bytes, /) -> int:
        self.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def of_stream(handle: IO[bytes]) -> tuple[str, int]:
    """(SHA-256 hex, bytes) of what is left to read in ``handle``, read in chunks."""
    digest = Digest()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest(), digest.bytes


def of_file(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, bytes) of the file at ``path``."""
    with path.open("rb") as handle:
        return of_stream(handle)


def of_bytes(data: bytes) -> str:
    digest = Digest()
    digest.update(data)
    return digest.hexdigest()
