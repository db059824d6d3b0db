"""The pure retention policy: ages, the floor of verified backups, tiers apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maintenance.backup import layout
from maintenance.backup.policy import Candidate, Decision, Policy, decide
from maintenance.errors import BadInput
from maintenance.fs import temp

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy(
    max_age={"daily": 7 * DAY, "weekly": 56 * DAY, "monthly": 365 * DAY}, min_verified=3
)


def cand(tier: str, age: timedelta, verified: bool = True, n: int = 0) -> Candidate:
    created = NOW - age
    return Candidate(f"{tier}-{created:%Y%m%dT%H%M%S}{n}Z", tier, created, verified, 100)


def by_id(decisions: list[Decision]) -> dict[str, Decision]:
    return {d.id: d for d in decisions}


def test_one_decision_per_candidate_in_the_given_order() -> None:
    cands = [cand("daily", 9 * DAY), cand("weekly", DAY), cand("daily", DAY)]
    out = decide(cands, POLICY, NOW)
    assert [d.id for d in out] == [c.id for c in cands]
    assert all(d.reason for d in out)
    assert [(d.tier, d.created_at, d.size_bytes) for d in out] == [
        (c.tier, c.created_at, c.size_bytes) for c in cands
    ]


@pytest.mark.parametrize(
    ("age", "keep"),
    [
        (7 * DAY - timedelta(seconds=1), True),
        (7 * DAY, True),  # exactly the retention age: still within it
        (7 * DAY + timedelta(seconds=1), False),
        (8 * DAY, False),
    ],
)
def test_age_boundary_of_an_unprotected_backup(age: timedelta, keep: bool) -> None:
    # five newer verified backups fill the floor and the newest-verified slot
    newer = [cand("daily", h * timedelta(hours=1)) for h in range(1, 6)]
    target = cand("daily", age)
    d = by_id(decide([*newer, target], POLICY, NOW))[target.id]
    assert d.keep is keep
    assert ("within 7 days" in d.reason) if keep else ("older than 7 days" in d.reason)


def test_floor_keeps_the_newest_n_verified_whatever_their_age() -> None:
    old_verified = [cand("daily", (20 + i) * DAY) for i in range(5)]  # 20..24 days old
    out = by_id(decide(old_verified, POLICY, NOW))
    kept = [c.id for c in old_verified if out[c.id].keep]
    assert kept == [c.id for c in old_verified[:3]]  # the three newest
    assert "newest verified daily backup: always kept" in out[old_verified[0].id].reason
    assert "floor MAINT_RETENTION_MIN_VERIFIED=3" in out[old_verified[1].id].reason
    assert not out[old_verified[3].id].keep and not out[old_verified[4].id].keep


def test_unverified_and_failed_never_count_toward_the_floor() -> None:
    failed = [cand("daily", d * DAY + timedelta(hours=1), verified=False) for d in range(10)]
    good = [cand("daily", d * DAY + timedelta(hours=1)) for d in range(10, 15)]
    out = by_id(decide(failed + good, POLICY, NOW))
    # failed ones go by age alone; 7 of them are young enough
    assert [out[c.id].keep for c in failed] == [True] * 7 + [False] * 3
    assert all("unverified or failed" in out[c.id].reason for c in failed[7:])
    # the three newest verified survive although older than 7 days
    assert [out[c.id].keep for c in good] == [True, True, True, False, False]


def test_newest_verified_is_kept_even_with_a_floor_of_zero() -> None:
    p = Policy(max_age=POLICY.max_age, min_verified=0)
    only = cand("daily", 100 * DAY)
    older = cand("daily", 101 * DAY)
    out = by_id(decide([only, older], p, NOW))
    assert out[only.id].keep and "always kept" in out[only.id].reason
    assert not out[older.id].keep


def test_newest_verified_is_kept_when_newer_ones_are_unverified() -> None:
    newer_bad = [cand("daily", d * DAY, verified=False) for d in range(10, 13)]
    verified = cand("daily", 30 * DAY)
    out = by_id(decide([*newer_bad, verified], Policy(POLICY.max_age, 1), NOW))
    assert out[verified.id].keep
    assert not any(out[c.id].keep for c in newer_bad)


def test_min_verified_larger_than_available_keeps_every_verified_one() -> None:
    p = Policy(max_age=POLICY.max_age, min_verified=10)
    verified = [cand("weekly", (100 + i) * DAY) for i in range(4)]
    unverified = cand("weekly", 90 * DAY, verified=False)
    out = by_id(decide([*verified, unverified], p, NOW))
    assert all(out[c.id].keep for c in verified)
    assert not out[unverified.id].keep  # never kept to make up the numbers


def test_tiers_are_decided_independently() -> None:
    # monthly has only old verified backups; daily has plenty of young ones
    daily = [cand("daily", h * timedelta(hours=6)) for h in range(1, 8)]
    old_daily = cand("daily", 30 * DAY)
    monthly = [cand("monthly", (400 + 30 * i) * DAY) for i in range(5)]
    weekly_young = cand("weekly", 50 * DAY)
    weekly_old = cand("weekly", 57 * DAY)
    out = by_id(decide([*daily, old_daily, *monthly, weekly_young, weekly_old], POLICY, NOW))
    assert all(out[c.id].keep for c in daily)
    assert not out[old_daily.id].keep  # daily's floor is met by young ones
    assert [out[c.id].keep for c in monthly] == [True, True, True, False, False]
    assert out[weekly_young.id].keep
    # weekly's two verified backups: both within the floor of 3
    assert out[weekly_old.id].keep and "floor" in out[weekly_old.id].reason


def test_a_tier_without_a_retention_age_is_kept() -> None:
    p = Policy(max_age={"daily": 7 * DAY}, min_verified=1)
    c = cand("weekly", 1000 * DAY, verified=False)
    (d,) = decide([c], p, NOW)
    assert d.keep and "no retention age" in d.reason


def test_nothing_to_decide() -> None:
    assert decide([], POLICY, NOW) == []


@pytest.mark.parametrize(
    "final",
    ["daily-20261127T230000Z.dump.zst", "weekly-20261122T023000Z.manifest.json"],
)
def test_the_temp_name_a_writer_makes_is_the_one_the_parser_reads(final: str) -> None:
    folder = Path("/backups") / final.split("-")[0]
    made = temp.temp_path(folder / final)
    assert made.parent == folder
    assert temp.temp_target(made.name) == final
    assert temp.is_temp(made)
    assert layout.temp_backup_id(made.name) == final.split(".")[0]
    assert temp.temp_path(folder / final) != made  # unique: a pid repeats after a crash


@pytest.mark.parametrize(
    "name",
    [
        ".daily-20261127T230000Z.dump.zst.tmp-4242",  # no random part: not what we write
        ".daily-20261127T230000Z.dump.zst.tmp-",
        ".daily-20261127T230000Z.dump.zst.tmp-1-DEADBEEF",
        ".daily-20261127T230000Z.dump.zst.tmp-1-deadbeef0",
        ".daily-20261127T230000Z.dump.zst.tmp-\u0664-deadbeef",  # a non-ASCII digit
        "daily-20261127T230000Z.dump.zst.tmp-1-deadbeef",  # not hidden
        ".daily-20261127T230000Z.manifest.json.lock",
        "daily-20261127T230000Z.dump.zst",
    ],
)
def test_names_that_are_not_our_temp_names(name: str) -> None:
    assert temp.temp_target(name) is None
    assert not temp.is_temp(Path(name))
    assert layout.temp_backup_id(name) is None


@pytest.mark.parametrize(
    "final",
    [
        "daily-2026.dump.zst",  # not an id
        "../etc/passwd.dump.zst",
        "daily-20261127T230000Z.tar",  # not a dump or a manifest
        "notes",
    ],
)
def test_a_temp_name_counts_as_a_backup_s_only_around_a_valid_id(final: str) -> None:
    name = f".{final}{temp.TEMP_MARK}1-deadbeef"
    assert layout.temp_backup_id(name) is None


@pytest.mark.parametrize(
    "name", ["daily-20261399T000000Z", "weekly-20260230T000000Z", "daily-20261127T250000Z"]
)
def test_an_id_with_an_impossible_date_is_bad_input_not_a_crash(name: str) -> None:
    with pytest.raises(BadInput, match="not valid"):
        layout.parse_id(name)
    with pytest.raises(BadInput, match="not a forensic dump's name"):
        layout.parse_forensic_name(f"residency_scheduler-{name.split('-')[1]}")


def test_forensic_names_are_made_and_read_in_one_place() -> None:
    name = layout.forensic_name("residency_scheduler", NOW)
    assert name == "residency_scheduler-20261127T020000Z"
    assert layout.parse_forensic_name(name) == ("residency_scheduler", NOW)
    for bad in ("../etc-20261127T020000Z", "Residency-20261127T020000Z", "x-2026", ""):
        with pytest.raises(BadInput):
            layout.parse_forensic_name(bad)
