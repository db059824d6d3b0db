"""maintenance.fs on real files: the one deleter (root, links, ``..``, dry run, the
folder lock), the one atomic writer, the one temp-name format and the one hasher."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maintenance.errors import BadInput
from maintenance.fs import atomic, delete, digest, temp
from maintenance.fs.delete import Busy, Refused
from maintenance.fs.lock import folder_lock


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "logs").mkdir(parents=True)
    return r


def _file(path: Path, data: bytes = b"data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- the deleter -----------------------------------------------------------------------


def test_delete_removes_a_regular_file_and_says_what_it_freed(root: Path) -> None:
    f = _file(root / "logs" / "app.log.1", b"x" * 1234)
    done = delete.delete(f, root=root, reason="older than 30 days", dry_run=False)
    assert not f.exists()
    assert done.deleted and done.existed and not done.dry_run
    assert (done.relpath, done.size_bytes, done.reason) == (
        "logs/app.log.1",
        1234,
        "older than 30 days",
    )
    assert done.describe() == "deleted logs/app.log.1 (1234 bytes): older than 30 days"
    again = delete.delete(f, root=root, reason="older than 30 days", dry_run=False)
    assert not again.existed and not again.deleted  # twice is the same as once


def test_dry_run_reports_and_removes_nothing(root: Path) -> None:
    f = _file(root / "logs" / "app.log.1", b"x" * 10)
    done = delete.delete(f, root=root, reason="old", dry_run=True)
    assert f.read_bytes() == b"x" * 10
    assert done.dry_run and done.existed and not done.deleted
    assert done.size_bytes == 10
    assert done.describe().startswith("would delete logs/app.log.1 (10 bytes)")


def test_a_dry_run_refuses_what_a_real_run_would(root: Path, tmp_path: Path) -> None:
    precious = _file(tmp_path / "precious")
    (root / "logs" / "link").symlink_to(precious)
    with pytest.raises(Refused, match="symbolic link"):
        delete.delete(root / "logs" / "link", root=root, reason="old", dry_run=True)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_link_is_never_followed_nor_deleted(root: Path, tmp_path: Path, dry_run: bool) -> None:
    precious = _file(tmp_path / "precious", b"precious")
    inner = _file(root / "logs" / "inner.log", b"inner")
    (root / "logs" / "out").symlink_to(precious)
    (root / "logs" / "in").symlink_to(inner)  # a link that stays inside the root, too
    for name in ("out", "in"):
        with pytest.raises(Refused, match="symbolic link: never followed, never deleted"):
            delete.delete(root / "logs" / name, root=root, reason="old", dry_run=dry_run)
        assert (root / "logs" / name).is_symlink()
    assert precious.read_bytes() == b"precious" and inner.read_bytes() == b"inner"


def test_a_folder_on_the_way_that_is_a_link_refuses(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    target = _file(elsewhere / "app.log")
    (root / "linked").symlink_to(elsewhere)
    with pytest.raises(Refused, match="linked is a symbolic link"):
        delete.delete(root / "linked" / "app.log", root=root, reason="old", dry_run=False)
    assert target.exists()
    # even a link that leads back inside the root is not walked through
    (root / "alias").symlink_to(root / "logs")
    kept = _file(root / "logs" / "kept.log")
    with pytest.raises(Refused, match="alias is a symbolic link"):
        delete.delete(root / "alias" / "kept.log", root=root, reason="old", dry_run=False)
    assert kept.exists()


def test_a_root_that_is_a_link_is_refused(root: Path, tmp_path: Path) -> None:
    f = _file(root / "logs" / "app.log")
    link = tmp_path / "root-link"
    link.symlink_to(root)
    with pytest.raises(Refused, match=r"the root .* is a symbolic link"):
        delete.delete(link / "logs" / "app.log", root=link, reason="old", dry_run=False)
    assert f.exists()


@pytest.mark.parametrize(
    "path",
    [
        "../outside/precious",
        "logs/../../outside/precious",
        "logs/../logs/app.log",  # ends inside the root, but written with '..': refused too
    ],
)
def test_dot_dot_is_refused_wherever_it_leads(root: Path, tmp_path: Path, path: str) -> None:
    precious = _file(tmp_path / "outside" / "precious")
    app = _file(root / "logs" / "app.log")
    with pytest.raises(Refused, match=r"'\.\.'"):
        delete.delete(root / path, root=root, reason="old", dry_run=False)
    assert precious.exists() and app.exists()


def test_a_path_outside_the_root_or_the_root_itself_is_refused(root: Path, tmp_path: Path) -> None:
    outside = _file(tmp_path / "other" / "app.log")
    with pytest.raises(Refused, match="outside the root"):
        delete.delete(outside, root=root, reason="old", dry_run=False)
    with pytest.raises(Refused, match="outside the root"):
        delete.delete(Path("/etc/passwd"), root=root, reason="old", dry_run=True)
    with pytest.raises(Refused, match="the root itself"):
        delete.delete(root, root=root, reason="old", dry_run=False)
    assert outside.exists() and root.is_dir()
    assert issubclass(Refused, BadInput)  # bad input: a clear error, nothing changed


def test_only_regular_files_are_deleted(root: Path) -> None:
    with pytest.raises(Refused, match="a folder"):
        delete.delete(root / "logs", root=root, reason="old", dry_run=False)
    fifo = root / "logs" / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(Refused, match="not a regular file"):
        delete.delete(fifo, root=root, reason="old", dry_run=False)
    assert (root / "logs").is_dir() and fifo.exists()


def test_a_group_is_checked_whole_before_anything_goes(root: Path, tmp_path: Path) -> None:
    first = _file(root / "logs" / "a.dump")
    (root / "logs" / "a.manifest").symlink_to(_file(tmp_path / "precious"))
    with pytest.raises(Refused):
        delete.delete_group(
            [first, root / "logs" / "a.manifest"], root=root, reason="old", dry_run=False
        )
    assert first.exists()  # the link made the whole group refuse


def test_unless_present_keeps_a_file_whose_partner_exists(root: Path) -> None:
    dump, record = _file(root / "logs" / "a.dump"), _file(root / "logs" / "a.manifest")
    with pytest.raises(Refused, match=r"a\.dump exists"):
        delete.delete_group(
            [record], root=root, reason="orphan", dry_run=False, unless_present=[dump]
        )
    assert record.exists()
    dump.unlink()
    (gone,) = delete.delete_group(
        [record], root=root, reason="orphan", dry_run=False, unless_present=[dump]
    )
    assert gone.deleted and not record.exists()


def test_a_missing_folder_means_nothing_to_delete(root: Path) -> None:
    done = delete.delete(root / "nope" / "x.log", root=root, reason="old", dry_run=False)
    assert not done.existed and done.relpath == "nope/x.log"


#: A reader in another process: holds the folder's lock shared until its stdin closes.
_READER = """
import sys
from pathlib import Path
from maintenance.fs.lock import folder_lock
with folder_lock(Path(sys.argv[1]), shared=True):
    print("holding", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def reader(root: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _READER, str(root / "logs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_file_under_a_readers_lock_is_not_deleted(
    root: Path, reader: subprocess.Popen[str]
) -> None:
    f = _file(root / "logs" / "being-read.dump")
    with pytest.raises(Busy, match="stayed held"):
        delete.delete(f, root=root, reason="old", dry_run=False, lock_wait_s=0.2)
    assert f.exists()
    # a dry run takes no lock: it only says what would go
    assert delete.delete(f, root=root, reason="old", dry_run=True).existed
    assert f.exists()


def test_the_lock_is_shared_among_readers_and_free_after(root: Path) -> None:
    f = _file(root / "logs" / "x.dump")
    with (
        folder_lock(root / "logs", shared=True),
        folder_lock(root / "logs", shared=True, wait_s=0.2),  # readers share it
        pytest.raises(Busy),
    ):
        delete.delete(f, root=root, reason="old", dry_run=False, lock_wait_s=0.2)
    assert delete.delete(f, root=root, reason="old", dry_run=False, lock_wait_s=0.2).deleted


# --- the atomic writer and the temp names ----------------------------------------------


def test_atomic_write_makes_a_private_file_in_a_private_folder(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        folder = atomic.private_dir(tmp_path / "a" / "b")
        atomic.write_bytes(folder / "f.json", b"{}\n")
    finally:
        os.umask(old)
    assert (folder / "f.json").read_bytes() == b"{}\n"
    assert stat.S_IMODE((folder / "f.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # the parent it had to create too (the backup root under a first report's folder)
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == ["f.json"]  # no temp left


def test_a_private_folder_leaves_existing_parents_as_they_are(tmp_path: Path) -> None:
    shared = tmp_path / "srv"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)  # noqa: S103 - a shared parent, on purpose
    atomic.private_dir(shared / "reports")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "reports").stat().st_mode) == 0o700


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    final = _file(tmp_path / "f", b"old")

    def half_a_write() -> None:
        with atomic.atomic_write(final) as handle:
            handle.write(b"half")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        half_a_write()
    assert final.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_no_clobber_refuses_an_existing_file(tmp_path: Path) -> None:
    final = _file(tmp_path / "f", b"old")
    with pytest.raises(BadInput, match="already exists"):
        atomic.write_bytes(final, b"new", replace=False)
    assert final.read_bytes() == b"old"
    atomic.write_bytes(tmp_path / "g", b"new", replace=False)
    assert (tmp_path / "g").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "g"]


def test_commit_gives_a_finished_temp_file_its_final_name(tmp_path: Path) -> None:
    final = tmp_path / "x.dump"
    tmp = _file(temp.temp_path(final), b"dumped")
    atomic.commit(tmp, final)
    assert final.read_bytes() == b"dumped" and not tmp.exists()
    with pytest.raises(ValueError, match="not a temp name"):
        atomic.commit(_file(tmp_path / "other"), final)


def test_leftovers_are_the_temp_files_of_that_final_name_only(root: Path) -> None:
    final = root / "logs" / "app.json"
    mine = [_file(temp.temp_path(final)), _file(temp.temp_path(final))]
    _file(temp.temp_path(root / "logs" / "other.json"))
    _file(root / "logs" / ".app.json.lock")
    assert sorted(temp.leftovers_of(final)) == sorted(mine)
    gone = delete.remove_leftovers(final, root=root)
    assert sorted(d.path for d in gone) == sorted(mine) and all(d.deleted for d in gone)
    assert temp.leftovers_of(final) == []


def test_discard_removes_only_temp_files(tmp_path: Path) -> None:
    tmp = _file(temp.temp_path(tmp_path / "x"))
    delete.discard(tmp)
    assert not tmp.exists()
    delete.discard(tmp)  # already gone: fine
    final = _file(tmp_path / "x")
    with pytest.raises(Refused, match="not a temp file"):
        delete.discard(final)
    assert final.exists()
    link = temp.temp_path(tmp_path / "y")
    link.symlink_to(final)
    with pytest.raises(Refused, match="symbolic link"):
        delete.discard(link)
    assert link.is_symlink() and final.exists()


# --- the hasher ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, digest.CHUNK - 1, digest.CHUNK, 3 * digest.CHUNK + 7])
def test_the_hasher_agrees_with_sha256_at_chunk_edges(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = _file(tmp_path / "f", data)
    expected = hashlib.sha256(data).hexdigest()
    assert digest.of_file(path) == (expected, size)
    assert digest.of_bytes(data) == expected
    with path.open("rb") as handle:
        reader = digest.HashingReader(handle)
        while reader.read(4096):
            pass
    assert (reader.hexdigest(), reader.bytes) == (expected, size)
