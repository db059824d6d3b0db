"""What a task is, independent of Celery: a name, typed parameters, a function.

The Celery wrappers in ``tasks/`` and ``maint run`` both execute a :class:`TaskSpec`
through :func:`maintenance.runner.execute`, so a run is validated, locked and recorded
the same way whoever starts it.
"""

from __future__ import annotations

import contextlib
import enum
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from maintenance.config import Settings
from maintenance.errors import ParamError
from maintenance.redelivery import NEVER, LostRetry
from maintenance.results import Result, Trigger


class Params(BaseModel):
    """Base of every task's parameters: unknown names are errors, values are coerced
    from strings (``-p key=value`` on the CLI), lists and objects may be given as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _json_strings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            value = out.get(name)
            origin = typing.get_origin(field.annotation) or field.annotation
            if isinstance(value, str) and origin in (list, dict, tuple, set):
                # a string that is not JSON is left for the field's validation to name
                with contextlib.suppress(json.JSONDecodeError):
                    out[name] = json.loads(value)
        return out


class NoParams(Params):
    pass


P = TypeVar("P", bound=Params)


#: Opens the record of one step of a run: (step name, its parameters) -> a context
#: manager yielding an object with ``result`` and ``complete(Result)``. The runner
#: provides it (the history recorder); this module does not know how steps are stored.
StepRecorder = Callable[[str, dict[str, Any]], AbstractContextManager[Any]]


def window_authority(
    trigger: Trigger, window_run_id: int | None, force_reason: str | None
) -> str | None:
    """What lets a disruptive step (a flush, a table rebuild) run now, or None (pure):
    the maintenance window it is a step of, or the reason a person gave for not waiting
    for one (recorded with the run)."""
    if window_run_id is not None:
        return f"maintenance window run {window_run_id}"
    if trigger is Trigger.WINDOW:
        return "a maintenance window's step"
    if force_reason and force_reason.strip():
        return f"forced outside a window: {force_reason.strip()}"
    return None


@dataclass(frozen=True)
class RunContext:
    """What a task function gets besides its parameters."""

    settings: Settings
    run_id: int | None
    trigger: Trigger
    task: str
    window_run_id: int | None = None
    #: Asks a person to confirm a destructive step (``maint restore`` at a terminal);
    #: None where nobody can be asked (a worker).
    confirm: Callable[[str], bool] | None = None
    #: How steps are recorded; None outside a recorded run (steps are then not recorded).
    step_recorder: StepRecorder | None = None

    @contextlib.contextmanager
    def step(self, name: str, **params: Any) -> Iterator[Any]:
        """Record one step of this run as a row of its own (``parent_run_id``, ``step``).

        The body may ``complete(Result)`` the yielded recorder; otherwise the step
        succeeds when it returns. An exception fails the step and propagates.
        """
        if self.step_recorder is None:
            yield _UnrecordedStep()
            return
        with self.step_recorder(name, params) as rec:
            yield rec
            if rec.result is None:
                rec.complete(Result(summary=f"{name}: done"))


class _UnrecordedStep:
    """A step outside a recorded run: its result is kept, nothing is written."""

    result: Result | None = None

    def complete(self, result: Result) -> None:
        self.result = result


@dataclass(frozen=True)
class TaskSpec(Generic[P]):
    """A task: name, parameters, function and how it may run."""

    name: str
    func: Callable[[RunContext, P], Result]
    params: type[P]
    description: str
    #: Take a singleton lock; a second copy is recorded ``skipped``.
    exclusive: bool = False
    #: Lock name, when several tasks must exclude each other (default: the task name).
    lock: str | None = None
    soft_time_limit: int = 300
    time_limit: int = 360
    #: Retries of a TransientError by the workers (the CLI does not retry).
    max_retries: int = 3
    #: Whether a run whose worker died is retried when its message comes back (default:
    #: never; the redelivered message is recorded ``skipped``).
    lost_retry: LostRetry = NEVER

    def __post_init__(self) -> None:
        if self.time_limit <= self.soft_time_limit:
            raise ValueError(f"{self.name}: time_limit must exceed soft_time_limit")

    @property
    def lock_name(self) -> str:
        return self.lock or self.name

    def parse(self, raw: Mapping[str, Any]) -> P:
        """Validate raw parameters; raise ParamError naming each bad one."""
        try:
            return self.params.model_validate(dict(raw))
        except ValidationError as exc:
            raise ParamError(self._describe(exc, raw)) from None

    def _describe(self, exc: ValidationError, raw: Mapping[str, Any]) -> str:
        known = ", ".join(self.params.model_fields) or "none"
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            name = loc[0] if loc else "?"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown parameter {name!r} (known: {known})")
            elif err["type"] == "missing":
                problems.append(f"missing parameter {name!r}")
            else:
                where = ".".join(loc) or "parameters"
                got = raw.get(name, err.get("input")) if loc else err.get("input")
                msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"parameter {where!r}: {msg} (got {got!r})")
        return f"{self.name}: " + "; ".join(problems)

    def describe_params(self) -> list[dict[str, Any]]:
        """Name, type, default and help of each parameter (for ``maint tasks``)."""
        out = []
        for name, field in self.params.model_fields.items():
            required = field.is_required()
            out.append(
                {
                    "name": name,
                    "type": _type_name(field.annotation),
                    "required": required,
                    "default": None
                    if required
                    else _default(field.get_default(call_default_factory=True)),
                    "help": field.description or "",
                }
            )
        return out


def _type_name(annotation: Any) -> str:
    """How a parameter's type reads in ``maint tasks``: ``daily|weekly|monthly`` for an
    enum or a Literal, ``str`` for ``str | None`` (None is the absence of a value, not
    something to type), ``list[str]``."""
    if annotation is None or annotation is type(None):
        return "none"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "|".join(_literal(a) for a in args)
    if origin is typing.Union or origin is types.UnionType:
        named = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) if named else "none"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "|".join(_literal(m.value) for m in annotation)
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return (
            f"{getattr(origin, '__name__', str(origin))}[{inner}]" if inner else _type_name(origin)
        )
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value.value if isinstance(value, enum.Enum) else value)


def _default(value: Any) -> Any:
    """A default as JSON shows it: an enum member by its value."""
    if isinstance(value, enum.Enum):
        return value.value
    return value
