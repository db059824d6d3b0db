"""Retention's plan is a pure function of (facts, rules, now): facts built in memory, a
root that does not exist, and every decision, floor and refusal still made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from maintenance.backup import forensics, layout, manifest
from maintenance.backup.forensics import ForensicDump
from maintenance.backup.inventory import Backup, BackupStatus
from maintenance.backup.layout import Tier
from maintenance.backup.policy import Policy
from maintenance.backup.retention.facts import BackupFacts, Entry, Facts, ForensicFacts
from maintenance.backup.retention.plan import Rules, plan

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
ROOT = Path("/nonexistent/backups")  # the plan never looks at the disk
RULES = Rules(
    Policy(max_age={"daily": 7 * DAY, "weekly": 56 * DAY, "monthly": 365 * DAY}, min_verified=3),
    forensics.Rule(keep_days=30, min_keep=2),
    budget_bytes=10**9,
)


def _entry(rel: str, size: int, mtime: datetime, kind: str = "file") -> Entry:
    return Entry(rel, kind, size, mtime, "/elsewhere" if kind == "link" else None)  # type: ignore[arg-type]


def backup(age: timedelta, *, verified: bool | None = True, dump: str = "file") -> BackupFacts:
    created = NOW - age
    bid = layout.make_id(Tier.DAILY, created)
    m = manifest.Manifest(
        id=bid,
        tier=Tier.DAILY,
        size_bytes=64,
        verification=None
        if verified is None
        else manifest.Verification(level="full", passed=verified, at=created + HOUR),
    )
    b = Backup(bid, Tier.DAILY, created, ROOT / "daily" / bid, ROOT / "daily" / bid, 64, m)
    return BackupFacts(
        b,
        _entry(f"daily/{bid}{layout.DUMP_SUFFIX}", 64, created, dump),
        _entry(f"daily/{bid}{layout.MANIFEST_SUFFIX}", 300, created),
    )


def test_the_floor_holds_after_ten_days_of_failures_without_touching_a_disk() -> None:
    failed = [backup(d * DAY + HOUR, verified=False) for d in range(10)]
    good = [backup(d * DAY + HOUR) for d in range(10, 15)]
    facts = Facts(ROOT, backups=tuple(failed + good), total_bytes=15 * 364)

    p = plan(facts, RULES, NOW)

    kept = {i.id for i in p.items if i.keep}
    assert kept == {f.backup.id for f in failed[:7]} | {f.backup.id for f in good[:3]}
    assert p.floor()["daily"] == {
        "verified": 5,
        "verified_kept": 3,
        "required": 3,
        "newest_verified": good[0].backup.id,
        "holds": True,
    }
    assert p.safe_to_apply and p.refusal is None
    assert p.bytes_to_free == 5 * 364  # dump + manifest of each of the five that go
    gone = {i.id: i for i in p.to_delete}
    assert gone[failed[9].backup.id].files == (
        f"daily/{failed[9].backup.id}{layout.DUMP_SUFFIX}",
        f"daily/{failed[9].backup.id}{layout.MANIFEST_SUFFIX}",
    )
    assert "(unverified or failed): delete" in gone[failed[9].backup.id].decision.reason
    assert plan(facts, RULES, NOW).rows() == p.rows()  # same facts, same plan


def test_facts_read_unsafely_give_a_plan_that_deletes_nothing() -> None:
    facts = Facts(ROOT, backups=(backup(30 * DAY),), error="cannot read it safely: a link")
    p = plan(facts, RULES, NOW)
    assert p.items == [] and p.to_delete == [] and p.bytes_to_free == 0
    assert p.refusal == "the backup root was not read safely"


def test_links_misplaced_and_unsafe_folders_are_refused_never_deleted() -> None:
    linked = backup(40 * DAY, dump="link")
    old = backup(40 * DAY + HOUR)
    facts = Facts(
        ROOT,
        backups=(linked, old, *(backup(d * DAY + HOUR) for d in range(3))),
        tier_problems={Tier.WEEKLY: "a symbolic link to /elsewhere"},
        temp_files=(_entry("weekly/.x.dump.zst.tmp-1-deadbeef", 5, NOW - 3 * DAY),),
        strays=(_entry("daily/notes", 0, NOW, "link"), _entry("daily/notes.txt", 1, NOW)),
        root_links=(_entry("elsewhere", 0, NOW, "link"),),
    )
    p = plan(facts, RULES, NOW)
    items = {i.id: i for i in p.items}
    assert items[linked.backup.id].kind == "refused" and items[linked.backup.id].keep
    assert items[linked.backup.id].status is BackupStatus.VERIFIED_FULL
    assert not items[old.backup.id].keep  # an ordinary old backup still goes
    assert p.temp_files == []  # a temp file in a linked tier folder is not touched
    assert p.refused == [
        "weekly/: a symbolic link to /elsewhere",
        "elsewhere: a symbolic link to /elsewhere",
        f"daily/{linked.backup.id}: {linked.backup.id}{layout.DUMP_SUFFIX} is a symbolic link",
        "weekly/.x.dump.zst.tmp-1-deadbeef: its tier folder is not a plain folder",
        "daily/notes: a symbolic link to /elsewhere",
    ]
    assert p.strays == ["daily/notes.txt"]


def test_garbage_goes_after_a_day_and_not_before() -> None:
    orphan, young_orphan = backup(3 * DAY), backup(2 * HOUR)
    facts = Facts(
        ROOT,
        backups=(
            BackupFacts(orphan.backup, None, orphan.manifest),
            BackupFacts(young_orphan.backup, None, young_orphan.manifest),
        ),
        temp_files=(
            _entry("daily/.old.tmp-1-deadbeef", 5, NOW - DAY - HOUR),
            _entry("daily/.new.tmp-1-deadbeef", 5, NOW - 23 * HOUR),
        ),
    )
    p = plan(facts, RULES, NOW)
    items = {i.id: i for i in p.items}
    assert items[orphan.backup.id].kind == "orphan_manifest" and not items[orphan.backup.id].keep
    assert items[young_orphan.backup.id].keep
    assert [(t.name, t.remove) for t in p.temp_files] == [
        (".old.tmp-1-deadbeef", True),
        (".new.tmp-1-deadbeef", False),
    ]


def test_forensic_dumps_keep_the_newest_of_each_database() -> None:
    dumps = []
    for age in (HOUR, 50 * DAY, 60 * DAY):
        name = layout.forensic_name("scheduler", NOW - age)
        folder = ROOT / layout.FORENSICS_DIR
        record = manifest.ForensicRecord(
            database="scheduler",
            file=f"{name}.dump.zst",
            size_bytes=10,
            sha256="0" * 64,
            created_at=NOW - age,
        )
        d = ForensicDump(
            name,
            "scheduler",
            NOW - age,
            folder / f"{name}.dump.zst",
            folder / f"{name}.manifest.json",
            True,
            10,
            record,
        )
        dumps.append(
            (
                d,
                _entry(f"forensics/{name}.dump.zst", 10, NOW - age),
                _entry(f"forensics/{name}.manifest.json", 2, NOW - age),
            )
        )
    p = plan(Facts(ROOT, forensic=ForensicFacts(dumps=tuple(dumps))), RULES, NOW)
    assert p.forensic is not None
    assert [i.keep for i in p.forensic.items] == [False, True, True]  # oldest first
    assert p.forensic.floor()["scheduler"]["holds"]
    assert p.bytes_to_free == 12
