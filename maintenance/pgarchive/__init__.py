"""The backup archive format, written and read back: below ``backup/`` and ``restore/``,
which both use it.

A backup file (``.dump.zst``) is pg_dump's custom archive, uncompressed (``-Fc -Z0``),
inside one zstd frame with a content checksum. Decompressed, it is a plain custom
archive that ``pg_restore`` restores.

* :mod:`.dump`: pg_dump -> zstd -> a private temp file, hashed on the way
* :mod:`.decode`: the zstd reader; the whole archive read back through
  ``pg_restore -f -`` and every table's rows counted
* :mod:`.copytext`: the one reader of pg_restore's COPY text (decode and the loader)
* :mod:`.load`: the phased loader: the archive into an empty database, fast; its parts:
  :mod:`.toc` (the archive's head), :mod:`.streams` (the COPY streams), :mod:`.server`
  (UNLOGGED, VACUUM, the final flush), :mod:`.pgrestore` (pg_restore, fed or not)
* :mod:`.errors`: ArchiveError and its kinds: DumpFailed, DiskFull, DecodeFailed,
  LoadFailed

Every child process goes through :mod:`maintenance.proc`.
"""
