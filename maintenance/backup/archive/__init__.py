"""``backup.archive``: the playbook's monthly "Archive backup" step, checked.

``BACKUP_ROOT/archive/<id>.tar`` holds exactly two members, ``<id>.dump.zst`` and
``<id>.manifest.json`` (the manifest as it was when archived). The tar is not
compressed: the dump is zstd already, and ``tar -czf`` of it would spend minutes to
save nothing. The archive is written under a temp name and renamed (0600, folder 0700),
then read back whole: each member's SHA-256 is computed, the dump's against the
manifest's ``sha256``. A run finding the archive already there and intact changes
nothing but the record; a damaged one is reported and rebuilt.

The modules: :mod:`.task` (the task), :mod:`.tar` (the archive's format: writing it and
reading it back), :mod:`.prune` (archive retention).
"""
