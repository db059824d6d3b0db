from __future__ import annotations

import pytest
from pydantic import Field

from maintenance import catalog
from maintenance.errors import ParamError, UnknownTask
from maintenance.results import CheckStatus, Result, RunStatus
from maintenance.taskspec import Params, TaskSpec


class _P(Params):
    n: int = Field(3, ge=1)
    names: list[str] = Field(default_factory=list)
    flag: bool = False


def _noop(ctx, params):
    return Result()


SPEC = TaskSpec(name="t.x", func=_noop, params=_P, description="test spec")


def test_strings_from_the_cli_are_coerced() -> None:
    p = SPEC.parse({"n": "7", "names": '["a", "b"]', "flag": "true"})
    assert (p.n, p.names, p.flag) == (7, ["a", "b"], True)


def test_unknown_parameter_is_named_with_the_known_ones() -> None:
    with pytest.raises(
        ParamError, match=r"t\.x: unknown parameter 'colour' \(known: n, names, flag\)"
    ):
        SPEC.parse({"colour": "red"})


def test_bad_value_names_the_parameter_and_the_value() -> None:
    with pytest.raises(ParamError, match=r"parameter 'n'.*greater than or equal to 1.*got '0'"):
        SPEC.parse({"n": "0"})


def test_time_limits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="time_limit"):
        TaskSpec(
            name="t.y", func=_noop, params=_P, description="", soft_time_limit=10, time_limit=10
        )


def test_describe_params_gives_type_and_default() -> None:
    rows = {r["name"]: r for r in SPEC.describe_params()}
    assert rows["n"]["type"] == "int"
    assert rows["n"]["default"] == 3
    assert rows["names"]["default"] == []


def test_catalog_suggests_close_names() -> None:
    with pytest.raises(UnknownTask, match=r"did you mean db\.stats"):
        catalog.get("db.stat")


def test_task_names_are_dotted_area_first_and_unique() -> None:
    names = [s.name for s in catalog.SPECS]
    assert len(names) == len(set(names))
    for name in names:
        area, _, verb = name.partition(".")
        assert area
        assert verb
        assert name == name.lower()


def test_result_status_follows_its_checks() -> None:
    r = Result()
    r.check("a", True)
    r.check("b", False, warn_only=True)
    assert r.status is RunStatus.SUCCEEDED
    assert [c.status for c in r.checks] == [
        CheckStatus.PASS,
        CheckStatus.WARN,
    ]
    r.check("c", False)
    assert r.status is RunStatus.FAILED
    assert Result.from_dict(r.to_dict()).to_dict() == r.to_dict()
