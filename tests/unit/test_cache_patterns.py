"""Redis globs as Redis reads them: which patterns cache.clear_pattern refuses, and how a
literal prefix becomes a pattern (pure; tests/integration/test_cache_clear.py asks Redis)."""

from __future__ import annotations

import pytest

from maintenance.cache import patterns
from maintenance.cache.clear import ClearPatternParams
from maintenance.errors import ParamError
from maintenance.taskspec import TaskSpec


@pytest.mark.parametrize(
    "pattern", ["*", "**", "***", "?*", "*?", "*?*", "???", "?", "[a-z]*", "[^x]*", "*[!]*"]
)
def test_a_pattern_without_a_literal_character_is_too_broad(pattern: str) -> None:
    reason = patterns.too_broad(pattern)
    assert reason is not None and repr(pattern) in reason
    assert "cache.flush" in reason


def test_the_reason_says_whether_it_matches_everything_or_selects_by_shape() -> None:
    assert "matches every key" in (patterns.too_broad("**") or "")
    assert "length or shape" in (patterns.too_broad("?*") or "")


@pytest.mark.parametrize(
    "pattern",
    [
        "swaps:*",
        "*:session",
        "schedule:\\*",  # the one key literally named schedule:*
        "\\*",  # the key named *
        "\\?",
        "a?b",
        "report:[0-9]*",
        "\\",  # a lone trailing backslash is a literal backslash
    ],
)
def test_a_pattern_that_names_keys_is_accepted(pattern: str) -> None:
    assert patterns.too_broad(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("", "empty pattern"), ("a" * 1025, "1025 characters"), ("swaps:\n*", "control character")],
)
def test_empty_huge_or_control_character_patterns_are_refused(pattern: str, why: str) -> None:
    assert why in (patterns.too_broad(pattern) or "")


def test_tokens_follow_redis_escapes_and_classes() -> None:
    kinds = [(t.kind, t.text) for t in patterns.tokens("a\\*[x\\]y]?*\\")]
    assert kinds == [
        ("literal", "a"),
        ("literal", "*"),
        ("class", "[x\\]y]"),
        ("any", "?"),
        ("star", "*"),
        ("literal", "\\"),
    ]
    # a class that is never closed takes the rest of the pattern (as in Redis)
    assert [t.kind for t in patterns.tokens("[abc")] == ["class"]
    assert patterns.literal_text("sch\\*ed[u]le*") == "sch*edle"


def test_a_prefix_is_taken_literally() -> None:
    assert patterns.escape("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f"
    assert patterns.prefix_pattern("schedule:") == "schedule:*"
    assert patterns.prefix_pattern("odd*[x]:") == "odd\\*\\[x\\]:*"
    assert patterns.too_broad(patterns.prefix_pattern("*")) is None  # '\\**': names '*'


def test_the_task_refuses_a_broad_pattern_as_bad_input_naming_the_parameter() -> None:
    spec = TaskSpec("cache.clear_pattern", lambda c, p: None, ClearPatternParams, "")  # type: ignore[arg-type,return-value]
    with pytest.raises(ParamError, match=r"parameter 'pattern': '\?\*' has no literal"):
        spec.parse({"pattern": "?*"})
    with pytest.raises(ParamError, match="missing parameter 'pattern'"):
        spec.parse({})
    assert spec.parse({"pattern": "swaps:*", "dry_run": "true"}).dry_run is True
