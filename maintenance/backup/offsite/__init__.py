"""``backup.offsite``: an encrypted copy of a verified backup in a second location, read
back and checked, with two-year retention under the same floor rules (docs/offsite.md).

``OFFSITE_ROOT/<tier>/`` holds, per backup id:

* ``<id>.dump.zst.enc``: the backup file, AES-256-GCM stream (:mod:`..crypto`);
* ``<id>.manifest.json.enc``: its full manifest as it was when copied, encrypted the
  same way (manifests may grow fields nobody reviewed for the outside world);
* ``<id>.offsite.json``: a plain sidecar (:class:`.copies.Sidecar`) holding only what
  retention and checks need (id, tier, plaintext size and SHA-256, ciphertext size and
  SHA-256, key id, the last read-back). Written last: a copy without it is incomplete.

Every path under the off-site root is built from a validated id and checked to resolve
inside it. The root itself is never created: a missing root is an unmounted share, and
writing there would fill the local disk with a "second location" on the same machine.

The modules: :mod:`.task` (the task, its stages in order), :mod:`.copies` (what the
off-site root holds, the sidecar), :mod:`.copying` (one copy made and proven),
:mod:`.readback` (decrypt and compare), :mod:`.prune` (off-site retention),
:mod:`.state` (what a run carries from stage to stage).
"""
