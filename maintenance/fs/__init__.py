"""Files, safely, for every area: nothing here knows about backups, logs or caches.

* :mod:`.temp`: the one temp-name format (``.<final name>.tmp-<pid>-<8 hex>``) and its
  one parser, so writers and whatever cleans up after them agree on what a leftover is;
* :mod:`.atomic`: the one atomic writer (temp name, fsync, rename, fsync the folder;
  files 0600 in 0700 folders);
* :mod:`.digest`: the one hasher (SHA-256 in 1 MiB chunks, while reading or writing);
* :mod:`.lock`: the folder lock readers share and the deleter takes alone;
* :mod:`.delete`: the one deleter: confined to a root, never through a link, under the
  folder lock, ``dry_run`` threaded through, a :class:`~.delete.Deletion` for each file.
"""
