"""What goes wrong with an archive, as one tree under PermanentError (none of it gets
better by retrying the same call; a server that went away is ServiceUnavailable)::

    ArchiveError        an archive could not be written or read back
    ├── DumpFailed      pg_dump or the write of its output failed; no file left behind
    │   └── DiskFull    the backup folder ran out of space
    ├── DecodeFailed    the file could not be read back completely
    └── LoadFailed      it could not be loaded; the database is half-loaded
"""

from __future__ import annotations

from maintenance.errors import PermanentError


class ArchiveError(PermanentError):
    """An archive could not be written or read back."""


class DumpFailed(ArchiveError):
    """pg_dump or the write of its output failed; no file was left under a final name."""


class DiskFull(DumpFailed):
    """The backup folder ran out of space."""


class DecodeFailed(ArchiveError):
    """The backup file could not be read back completely."""


class LoadFailed(ArchiveError):
    """The archive could not be loaded; the database is half-loaded."""
