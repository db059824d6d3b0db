"""test.smoke and test.baseline (docs/smoke.md): the application's smoke checks as HTTP
requests against MAINT_API_URL, their time limit, and when a slower response is a
regression of the performance baseline."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from maintenance.config._base import Section

#: How long test.smoke may spend if every request times out: under its 300 s soft limit.
SMOKE_BUDGET_S = 240
#: The same for test.baseline (every request sent ``repeat`` times): under its 600 s.
BASELINE_BUDGET_S = 540

_NAME = re.compile(r"^[a-z0-9][a-z0-9 _.-]{0,62}$")


class SmokeRequest(BaseModel):
    """One smoke check: a request and what its answer must be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    method: Literal["GET", "HEAD", "POST"] = "GET"
    path: str
    status: int = Field(200, ge=100, le=599)
    #: Keys the JSON object the API answers must have (none: any body will do).
    keys: tuple[str, ...] = ()
    #: A JSON body for POST.
    body: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _smoke_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be lower-case letters, digits, spaces, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _smoke_method_fits(self) -> Self:
        if self.body is not None and self.method != "POST":
            raise ValueError(f"body: only a POST sends one, not {self.method}")
        if self.keys and self.method == "HEAD":
            raise ValueError("keys: a HEAD answer has no body to hold them")
        return self

    @field_validator("path")
    @classmethod
    def _smoke_path(cls, value: str) -> str:
        if not value.startswith("/") or value.startswith("//") or any(c.isspace() for c in value):
            raise ValueError("must be a path starting with a single '/', without spaces")
        return value


#: The playbook's smoke tests: "API responds to requests, Schedule queries work, Reports
#: generate correctly" (the restore checklist's APPLICATION VERIFICATION), and the health
#: endpoint's expected response.
DEFAULT_REQUESTS: tuple[dict[str, Any], ...] = (
    {
        "name": "health",
        "method": "GET",
        "path": "/api/health",
        "status": 200,
        "keys": ["status", "database", "cache", "api"],
    },
    {"name": "schedule query", "method": "GET", "path": "/api/schedule", "status": 200},
    {"name": "report", "method": "GET", "path": "/api/reports", "status": 200},
)


def parse_requests(raw: Any) -> tuple[SmokeRequest, ...]:
    """The requests of ``raw`` (a JSON list of objects); ValueError naming the bad item
    (by position and name) and what is wrong with it."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError("must be a non-empty JSON list of request objects")
    out: list[SmokeRequest] = []
    for i, item in enumerate(raw, 1):
        label = f"item {i}"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']!r})"
        if isinstance(item, SmokeRequest):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise ValueError(f"{label}: must be a JSON object, got {type(item).__name__}")
        try:
            out.append(SmokeRequest.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "item"
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (known: name, method, path, status, keys, body)"
            raise ValueError(f"{label}: {where}: {msg}") from None
    names = [r.name for r in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"request names must be unique: {', '.join(twice)} given twice")
    return tuple(out)


class SmokeSection(Section):
    TITLE = "Smoke tests and the performance baseline"

    smoke_requests: tuple[SmokeRequest, ...] = Field(
        default_factory=lambda: parse_requests(list(DEFAULT_REQUESTS)),
        description="JSON list of the smoke checks test.smoke and test.baseline send to "
        "MAINT_API_URL, each {name, method, path, status, keys, body}: the status the answer "
        "must have and the keys its JSON object must hold.",
    )
    smoke_timeout_s: float = Field(
        10.0,
        gt=0,
        le=120,
        description="Each smoke request's time limit (connect and read); a request that "
        "takes longer fails its check.",
    )
    smoke_baseline_weeks: int = Field(
        4,
        ge=1,
        le=52,
        description="test.baseline compares each response time with the median of the "
        "baselines recorded in this many weeks before.",
    )
    smoke_regression_pct: float = Field(
        50.0,
        gt=0,
        le=10000,
        description="test.baseline warns when a response time is more than this many "
        "percent above its trailing median.",
    )
    smoke_regression_min_ms: float = Field(
        20.0,
        ge=0,
        description="A slowdown smaller than this many milliseconds is never a regression "
        "(a 3 ms answer that takes 5 ms is noise, not +67%).",
    )

    @field_validator("smoke_requests", mode="before")
    @classmethod
    def _smoke_requests(cls, value: Any) -> tuple[SmokeRequest, ...]:
        return parse_requests(value)

    @model_validator(mode="after")
    def _smoke_fits_its_time_limit(self) -> Self:
        worst = len(self.smoke_requests) * self.smoke_timeout_s
        if worst > SMOKE_BUDGET_S:
            raise ValueError(
                f"MAINT_SMOKE_REQUESTS ({len(self.smoke_requests)}) x MAINT_SMOKE_TIMEOUT_S "
                f"({self.smoke_timeout_s:g} s) is {worst:g} s: more than the {SMOKE_BUDGET_S} s "
                "test.smoke may take if every request times out"
            )
        return self
