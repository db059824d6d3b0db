"""The pure parts of upkeep: which sessions block, what a query shows, bloat arithmetic,
which indexes and tables are rebuilt, and what allows a disruptive step."""

from __future__ import annotations

import pytest

from maintenance import activity
from maintenance.config import load_settings
from maintenance.errors import ConfigError
from maintenance.results import Trigger
from maintenance.taskspec import window_authority
from maintenance.upkeep import bloat, optimize, reindex


def _session(pid: int, **kw: object) -> activity.Session:
    base: dict[str, object] = {
        "user": "app",
        "application": "scheduler",
        "state": "active",
        "xact_age_s": 1.0,
        "state_age_s": 1.0,
        "waiting_for_lock": False,
        "blocked_by": (),
    }
    base.update(kw)
    return activity.Session(pid=pid, **base)  # type: ignore[arg-type]


POLICY = activity.Policy(idle_in_transaction_s=300, lock_hold_s=60, lock_wait_s=10)


def test_idle_in_transaction_blocks_only_past_its_threshold() -> None:
    young = _session(1, state="idle in transaction", state_age_s=299, xact_age_s=299)
    old = _session(2, state="idle in transaction (aborted)", state_age_s=301, xact_age_s=400)
    (found,) = activity.blockers([young, old], POLICY)
    assert found.session.pid == 2
    assert "idle in transaction (aborted) for 5 min" in found.reasons[0]


def test_only_locks_that_conflict_with_vacuum_block() -> None:
    reader = _session(1, xact_age_s=3600, holds=(("public.assignments", "AccessShareLock"),))
    writer = _session(2, xact_age_s=3600, holds=(("public.assignments", "RowExclusiveLock"),))
    locker = _session(3, xact_age_s=61, holds=(("public.assignments", "ShareLock"),))
    fresh = _session(4, xact_age_s=5, holds=(("public.blocks", "AccessExclusiveLock"),))
    (found,) = activity.blockers([reader, writer, locker, fresh], POLICY)
    assert found.session.pid == 3
    assert found.reasons == ("holds public.assignments (ShareLock) for 61 s (limit 60 s)",)


def test_the_session_a_waiter_waits_for_is_named_even_if_it_looks_harmless() -> None:
    holder = _session(7, state="active", xact_age_s=5)
    waiter = _session(8, waiting_for_lock=True, blocked_by=(7, 99), state_age_s=12)
    found = activity.blockers([holder, waiter], POLICY)
    assert [b.session.pid for b in found] == [7, 99]
    assert found[0].reasons == ("pid 8 has waited 12 s for its lock",)
    assert found[1].session.user is None  # not a client session of this database


def test_a_short_wait_is_not_a_blocker() -> None:
    waiter = _session(8, waiting_for_lock=True, blocked_by=(7,), state_age_s=9)
    assert activity.blockers([_session(7), waiter], POLICY) == []


def test_queries_lose_their_literals_and_passwords() -> None:
    q = "ALTER ROLE app PASSWORD 'hunter2';  SELECT * FROM persons WHERE name = 'O''Brien' AND x = $$a$$"
    masked = activity.mask_query(q)
    assert "hunter2" not in masked and "Brien" not in masked and "$$a$$" not in masked
    assert masked.startswith("ALTER ROLE app PASSWORD '***'; SELECT * FROM persons")
    assert len(activity.mask_query("SELECT " + "x, " * 200)) == activity.QUERY_CHARS


def test_describe_and_summary_name_pid_user_application_state_and_query() -> None:
    s = _session(42, state="idle in transaction", state_age_s=900, query="UPDATE a SET n = 'x'")
    (b,) = activity.blockers([s], POLICY)
    d = activity.describe(b)
    assert d["pid"] == 42 and d["user"] == "app" and d["application"] == "scheduler"
    assert d["state"] == "idle in transaction" and d["state_age_s"] == 900
    assert d["query"] == "UPDATE a SET n = '***'"
    assert "pid 42 app (scheduler): idle in transaction for 15 min" in activity.summary([b])


def _facts(**kw: object) -> bloat.RelFacts:
    base: dict[str, object] = {
        "schema": "public",
        "table": "t",
        "index": None,
        "real_bytes": 100 * 8192,
        "reltuples": 1000,
        "block_size": 8192,
        "fillfactor": 100,
        "columns": 4,
        "columns_with_stats": 4,
        "data_width": 52,
        "has_nulls": False,
    }
    base.update(kw)
    return bloat.RelFacts(**base)  # type: ignore[arg-type]


def test_table_estimate_counts_pages_of_packed_rows() -> None:
    # tuple: header 24 + data 56 + line pointer 4 = 84 bytes; (8192-24)//84 = 97 per page
    est = bloat.estimate_table(_facts(reltuples=9700, real_bytes=200 * 8192))
    assert est.expected_bytes == 100 * 8192
    assert est.bloat_bytes == 100 * 8192 and est.ratio == pytest.approx(0.5)
    assert est.reliable


def test_fillfactor_and_nulls_make_the_expected_size_larger() -> None:
    packed = bloat.estimate_table(_facts(reltuples=10_000))
    loose = bloat.estimate_table(_facts(reltuples=10_000, fillfactor=50))
    nulls = bloat.estimate_table(_facts(reltuples=10_000, columns=9, has_nulls=True))
    assert loose.expected_bytes > 1.9 * packed.expected_bytes
    assert nulls.expected_bytes > packed.expected_bytes


def test_index_estimate_has_a_metapage_and_never_negative_bloat() -> None:
    f = _facts(index="t_pkey", data_width=4, fillfactor=90, real_bytes=8192)
    est = bloat.estimate_index(f)
    # entry: 8 + 8 + 4 = 20; (8192-40)*0.9/20 = 366 per page: 3 leaf pages + the metapage
    assert est.expected_bytes == 4 * 8192
    assert est.bloat_bytes == 0 and est.ratio == 0


def test_missing_statistics_make_an_estimate_unreliable() -> None:
    assert not bloat.estimate_table(_facts(columns_with_stats=3)).reliable
    assert not bloat.estimate_table(_facts(reltuples=-1)).reliable
    assert not bloat.estimate_index(_facts(index="i", has_expression=True)).reliable


def _b(name: str, real: int, expected: int, reliable: bool = True, index: bool = True) -> bloat.Bloat:
    return bloat.Bloat("public", "t", name if index else None, real, expected, reliable)


def test_reindex_chooses_reliable_indexes_over_both_thresholds_most_bloat_first() -> None:
    mib = 1 << 20
    estimates = [
        _b("small_ratio", 100 * mib, 80 * mib),  # 20 %
        _b("tiny", mib, mib // 10),  # 90 %, but 0.9 MiB
        _b("big", 100 * mib, 40 * mib),  # 60 %
        _b("medium", 10 * mib, 5 * mib),  # 50 %
        _b("unreliable", 100 * mib, mib, reliable=False),
        _b("a_table", 100 * mib, mib, index=False),
    ]
    chosen = reindex.choose(estimates, min_ratio=0.3, min_bytes=mib)
    assert [b.index for b in chosen] == ["big", "medium"]


def test_optimize_chooses_tables_only() -> None:
    mib = 1 << 20
    estimates = [_b("idx", 100 * mib, mib), _b("", 100 * mib, 10 * mib, index=False)]
    (chosen,) = optimize.choose(estimates, min_ratio=0.4, min_bytes=8 * mib)
    assert chosen.index is None


def test_a_disruptive_step_needs_a_window_or_a_reason() -> None:
    assert window_authority(Trigger.BEAT, 7, None) == "maintenance window run 7"
    assert window_authority(Trigger.WINDOW, None, None) == "a maintenance window's step"
    assert window_authority(Trigger.CLI, None, "  disk nearly full ") == (
        "forced outside a window: disk nearly full"
    )
    assert window_authority(Trigger.ADHOC, None, "   ") is None
    assert window_authority(Trigger.BEAT, None, None) is None


def test_timeouts_per_kind_merge_with_defaults_and_refuse_unknown_kinds() -> None:
    s = load_settings(upkeep_lock_timeout_ms={"vacuum": 250})
    assert s.upkeep_lock_timeout_ms["vacuum"] == 250
    assert s.upkeep_lock_timeout_ms["reindex"] == 1000
    with pytest.raises(ConfigError, match="unknown statement kind"):
        load_settings(upkeep_lock_timeout_ms={"vaccum": 250})
    with pytest.raises(ConfigError, match="exceeds its statement timeout"):
        load_settings(upkeep_lock_timeout_ms={"read": 90_000}, upkeep_statement_timeout_s={"read": 60})


def test_an_escape_string_does_not_unmask_the_literal_after_it() -> None:
    q = r"SELECT E'it\'s', 'hunter2', type = 'x' FROM t WHERE n = E'a\\' || 'pw2'"
    masked = activity.mask_query(q)
    assert "hunter2" not in masked and "pw2" not in masked
    assert masked == "SELECT '***', '***', type = '***' FROM t WHERE n = '***' || '***'"
