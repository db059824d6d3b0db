"""The log area's pure parts: names, the listing's families, the rotation, compression,
archive and deletion plans, over hand-made listings (no file is touched)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maintenance.logs import cleanup_plan, naming, plan
from maintenance.logs.archive import Part, identity
from maintenance.logs.inventory import Entry, Inventory, classify
from maintenance.logs.naming import Scheme
from maintenance.logs.plan import Policy
from maintenance.logs.writers import Writers

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)  # a Sunday, 01:00 in New York
ZONE = ZoneInfo("America/New_York")
_ino = iter(range(100, 10_000))


def entry(
    name: str,
    *,
    size: int = 10,
    age: timedelta = timedelta(hours=1),
    kind: str = "file",
    mode: int = 0o640,
) -> Entry:
    mtime = NOW - age
    return Entry(name, kind, size, int(mtime.timestamp() * 1e9), next(_ino), 1, mode, 0, 0, size)


def policy(**kw: object) -> Policy:
    base = {"patterns": ["*.log"], "keep": 5, "max_bytes": 1000, "zone": ZONE}
    return Policy(**(base | kw))  # type: ignore[arg-type]


def inv_of(*entries: Entry, scheme: Scheme | None = None) -> Inventory:
    return classify(list(entries), ["*.log"], scheme or Scheme())


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "base", "index", "stamp", "gz"),
    [
        ("app.log.1", "app.log", 1, None, False),
        ("app.log.12.gz", "app.log", 12, None, True),
        ("access.log-20261201", "access.log", None, "-20261201", False),
        ("access.log-20261201.gz", "access.log", None, "-20261201", True),
        ("my.app.log.3.gz", "my.app.log", 3, None, True),
    ],
)
def test_rotated_names_read_back_as_logrotate_writes_them(
    name: str, base: str, index: int | None, stamp: str | None, gz: bool
) -> None:
    r = naming.parse_rotated(name, Scheme())
    assert r is not None
    assert (r.base, r.index, r.stamp, r.compressed) == (base, index, stamp, gz)
    assert r.name == name


@pytest.mark.parametrize(
    "name", ["app.log", "app.log.0", "app.log-20261399", "app.log.gz", "notes.txt"]
)
def test_names_that_are_not_rotated_files(name: str) -> None:
    assert naming.parse_rotated(name, Scheme()) is None


def test_the_listing_sorts_entries_into_families_and_sets_links_apart() -> None:
    inv = inv_of(
        entry("app.log"),
        entry("app.log.1"),
        entry("app.log.3.gz"),
        entry("app.log.2.gz"),
        entry("gone.log.1.gz"),  # its live log was removed: still a family
        entry("evil.log", kind="link"),
        entry("evil.log.2.gz", kind="link"),
        entry("sock.log", kind="other"),
        entry(".app.log.2.gz.tmp-12-0a1b2c3d"),
        entry("notes.txt"),
        entry("notes.txt.1"),  # not a log's: notes.txt matches no pattern
    )
    assert [m.name for m in inv.families["app.log"].members] == [
        "app.log.1",
        "app.log.2.gz",
        "app.log.3.gz",
    ]
    assert inv.families["app.log"].live is not None
    assert inv.families["gone.log"].live is None
    assert [e.name for e in inv.links] == ["evil.log", "evil.log.2.gz"]
    assert [e.name for e in inv.irregular] == ["sock.log"]
    assert [e.name for e in inv.temps] == [".app.log.2.gz.tmp-12-0a1b2c3d"]
    assert {e.name for e in inv.others} == {"notes.txt", "notes.txt.1"}


# --- rotation ------------------------------------------------------------------------------


def test_a_numbered_rotation_deletes_beyond_keep_then_shifts_highest_first() -> None:
    inv = inv_of(
        *(entry(f"app.log.{i}.gz") for i in range(2, 7)), entry("app.log.1"), entry("app.log")
    )
    (p,) = plan.rotation(inv, policy(keep=5), {}, NOW)
    assert p.due and not p.blocked
    assert [s.describe().split(":")[0] for s in p.steps] == [
        "delete app.log.6.gz",
        "delete app.log.5.gz",
        "rename app.log.4.gz -> app.log.5.gz",
        "rename app.log.3.gz -> app.log.4.gz",
        "rename app.log.2.gz -> app.log.3.gz",
        "rename app.log.1 -> app.log.2",
        "rename app.log -> app.log.1",
        "create app.log",
    ]


@pytest.mark.parametrize(
    ("size", "last", "kw", "due", "why"),
    [
        (0, None, {}, False, "notifempty"),
        (10, None, {}, True, "not rotated before"),
        (10, NOW - timedelta(minutes=30), {}, False, "rotated today"),  # 00:30 in New York
        (
            10,
            NOW - timedelta(hours=2),
            {},
            True,
            "daily: last rotated 2026-12-05",
        ),  # 23:00 the day before
        (10, NOW - timedelta(hours=7), {}, True, "daily: last rotated 2026-12-05"),
        (5000, NOW - timedelta(minutes=5), {}, True, "over the size cap"),
        (10, NOW - timedelta(minutes=5), {"force": True}, True, "forced"),
        (10, None, {"only_oversized": True}, False, "under the size cap"),
        (5000, None, {"only_oversized": True}, True, "over the size cap"),
        (0, None, {"force": True}, False, "notifempty"),
    ],
)
def test_when_a_log_is_due(
    size: int, last: datetime | None, kw: dict[str, bool], due: bool, why: str
) -> None:
    inv = inv_of(entry("app.log", size=size))
    is_due, reason = plan.due(inv.families["app.log"], policy(), last, NOW, **kw)
    assert (is_due, why in reason) == (due, True), reason


def test_a_missing_live_log_is_not_an_error() -> None:
    (p,) = plan.rotation(inv_of(entry("app.log.1")), policy(), {}, NOW)
    assert not p.due and "missingok" in p.reason and not p.steps


def test_an_interrupted_compression_blocks_the_shift_instead_of_overwriting() -> None:
    inv = inv_of(entry("app.log"), entry("app.log.1"), entry("app.log.2"), entry("app.log.2.gz"))
    (p,) = plan.rotation(inv, policy(), {}, NOW)
    assert p.blocked and "app.log.2" in p.blocked and not p.steps


def test_a_dated_rotation_uses_the_local_date_and_skips_a_taken_name() -> None:
    dated = Scheme(dateext=True)
    pol = policy(scheme=dated, keep=2)
    inv = inv_of(
        entry("app.log"), entry("app.log-20261204.gz"), entry("app.log-20261203.gz"), scheme=dated
    )
    (p,) = plan.rotation(inv, pol, {}, NOW)
    # 06:00 UTC is 01:00 on Dec 6 in New York: app.log-20261206; keep 2: the new one
    # and the newest old one stay, the oldest goes
    assert [s.describe().split(":")[0] for s in p.steps] == [
        "delete app.log-20261203.gz",
        "rename app.log -> app.log-20261206",
        "create app.log",
    ]
    inv = inv_of(entry("app.log"), entry("app.log-20261206"), scheme=dated)
    (p,) = plan.rotation(inv, pol, {}, NOW, force=True)
    assert not p.due and "already exists" in p.reason


# --- compression ---------------------------------------------------------------------------


def test_compression_keeps_the_newest_plain_and_never_touches_an_open_file() -> None:
    inv = inv_of(entry("app.log.1"), entry("app.log.2"), entry("app.log.3"), entry("app.log.4.gz"))
    held = inv.families["app.log"].members[2].entry  # app.log.3
    steps, left = plan.compression(inv, Writers({held.key: [4242]}), NOW, keep_newest_plain=True)
    assert [(s.name, s.to) for s in steps] == [("app.log.2", "app.log.2.gz")]
    reasons = {x.name: x.reason for x in left}
    assert "delaycompress" in reasons["app.log.1"]
    assert "pid 4242" in reasons["app.log.3"]


def test_compression_leaves_a_file_an_uninspectable_process_of_its_owner_may_write() -> None:
    inv = inv_of(entry("app.log.1"), entry("app.log.2"))
    unsure = inv.families["app.log"].members[1].entry  # app.log.2
    steps, left = plan.compression(
        inv, Writers(unknown={unsure.key: 1}), NOW, keep_newest_plain=False
    )
    assert [s.name for s in steps] == ["app.log.1"]
    assert left[0].name == "app.log.2" and "could not be inspected" in left[0].reason
    # writers out of sight (another PID namespace): delaycompress alone, as logrotate
    steps, _ = plan.compression(inv, Writers(visible=False), NOW, keep_newest_plain=True)
    assert [s.name for s in steps] == ["app.log.2"]


def test_the_weekly_compression_waits_a_day() -> None:
    inv = inv_of(
        entry("app.log.1", age=timedelta(hours=3)), entry("app.log.2", age=timedelta(days=2))
    )
    steps, _ = plan.compression(
        inv, Writers(), NOW, keep_newest_plain=False, min_age=timedelta(days=1)
    )
    assert [s.name for s in steps] == ["app.log.2"]


# --- archives and deletions ----------------------------------------------------------------


def test_a_past_month_is_archived_once_settled_and_not_again() -> None:
    old = entry("app.log.9.gz", age=timedelta(days=40))  # October in New York
    inv = inv_of(entry("app.log"), old)
    hashes = {old.name: "a" * 64}
    work, left = cleanup_plan.archive_plan(inv, {}, hashes, NOW, ZONE)
    assert [(w.month, w.number, [m.name for m in w.files]) for w in work] == [
        ("2026-10", 1, [old.name])
    ]
    member = inv.families["app.log"].members[0]
    intact = Part("logs_2026-10.tar", "2026-10", 1, {"x": identity(member, "a" * 64)})
    assert cleanup_plan.archive_plan(inv, {"2026-10": [intact]}, hashes, NOW, ZONE) == ([], [])
    # a plain file of that month still waiting for compression: the month is not settled
    inv = inv_of(old, entry("app.log.10", age=timedelta(days=41)))
    work, left = cleanup_plan.archive_plan(inv, {}, hashes, NOW, ZONE)
    assert work == [] and "waits" in left[0].reason
    # a new file of a month already archived goes into a second part
    other = Part("logs_2026-10.tar", "2026-10", 1, {"y": (1, 2, "b" * 64)})
    work, _ = cleanup_plan.archive_plan(inv_of(old), {"2026-10": [other]}, hashes, NOW, ZONE)
    assert [(w.month, w.number) for w in work] == [("2026-10", 2)]


def test_an_old_log_is_deleted_only_when_an_archive_holds_its_bytes() -> None:
    archived, unarchived = (
        entry("app.log.8.gz", age=timedelta(days=40)),
        entry("app.log.9.gz", age=timedelta(days=41)),
    )
    plain_old = entry("app.log.10", age=timedelta(days=42))
    recent = entry("app.log.2.gz", age=timedelta(days=3))
    inv = inv_of(recent, archived, unarchived, plain_old)
    pol = policy(keep=30, max_age=timedelta(days=30))
    member = next(m for m in inv.families["app.log"].members if m.name == archived.name)
    have = {identity(member, "a" * 64)}
    hashes = {archived.name: "a" * 64, unarchived.name: "b" * 64}
    steps, kept = cleanup_plan.deletions(inv, pol, have, hashes, Writers(), NOW)
    assert [s.name for s in steps] == [archived.name]
    reasons = {k.name: k.reason for k in kept}
    assert "no intact archive" in reasons[unarchived.name]
    assert "not compressed" in reasons[plain_old.name]
    assert recent.name not in reasons


def test_an_empty_log_is_deleted_only_when_nothing_holds_it_open() -> None:
    empty, held = entry("app.log", size=0), entry("error.log", size=0)
    inv = inv_of(empty, held, entry("access.log", size=5))
    steps, kept = cleanup_plan.deletions(inv, policy(), set(), {}, Writers({held.key: [77]}), NOW)
    assert [s.name for s in steps] == ["app.log"]
    assert "pid 77" in kept[0].reason and kept[0].name == "error.log"
    steps, kept = cleanup_plan.deletions(
        inv, policy(), set(), {}, Writers(unknown={empty.key: 1}), NOW
    )
    assert [s.name for s in steps] == ["error.log"]  # nothing said about it: nobody holds it
    assert kept[0].name == "app.log" and "could not be inspected" in kept[0].reason
    # from a container that cannot see the writers, no empty log is deleted
    steps, kept = cleanup_plan.deletions(inv, policy(), set(), {}, Writers(visible=False), NOW)
    assert steps == [] and {k.name for k in kept} == {"app.log", "error.log"}
    assert all("cannot be seen" in k.reason for k in kept)


def _fake_proc(tmp_path: Path, init: str, fds: dict[int, dict[int, tuple[Path, str]]]) -> Path:
    """A /proc with ``1/comm`` and, per pid, fd links to real files and their flags."""
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "1" / "comm").write_text(init + "\n")
    for pid, table in fds.items():
        (proc / str(pid) / "fd").mkdir(parents=True, exist_ok=True)
        (proc / str(pid) / "fdinfo").mkdir(exist_ok=True)
        for fd, (target, flags) in table.items():
            (proc / str(pid) / "fd" / str(fd)).symlink_to(target)
            (proc / str(pid) / "fdinfo" / str(fd)).write_text(f"pos:\t0\nflags:\t{flags}\n")
    return proc


def test_writers_are_found_by_inode_and_write_flags(tmp_path: Path) -> None:
    from maintenance.logs import writers

    files = {n: tmp_path / n for n in ("written.log", "read.log", "other.log")}
    for p in files.values():
        p.write_text("x")
    proc = _fake_proc(
        tmp_path,
        "systemd",
        {
            41: {3: (files["written.log"], "0102001")},  # O_WRONLY | O_APPEND | O_CREAT...
            42: {4: (files["read.log"], "0100000")},  # read-only
            43: {5: (files["written.log"], "02")},  # O_RDWR
        },
    )
    entries = [Entry.of(n, p.lstat()) for n, p in files.items()]
    found = writers.scan(entries, proc=proc)
    by_name = {e.name: sorted(found.writing(e.key)) for e in entries}
    assert by_name == {"written.log": [41, 43], "read.log": [], "other.log": []}
    assert writers.can_see_writers(None, proc) is True
    (proc / "1" / "comm").write_text("celery\n")
    assert writers.can_see_writers(None, proc) is False
    assert writers.can_see_writers(True, proc) is True


def test_orphans_beyond_keep_and_temp_files_go() -> None:
    inv = inv_of(
        entry("app.log.1"),
        entry("app.log.6.gz"),
        entry("app.log.7.gz"),
        entry(".x.log.1.gz.tmp-1-00ff00ff"),
    )
    steps, _ = cleanup_plan.deletions(inv, policy(keep=5), set(), {}, Writers(), NOW)
    assert [s.name for s in steps] == ["app.log.6.gz", "app.log.7.gz", ".x.log.1.gz.tmp-1-00ff00ff"]
