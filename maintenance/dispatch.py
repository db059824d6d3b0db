"""The seam through which the CLI sends work to the workers without importing Celery.

``maintenance/`` is plain Python. ``maint run --enqueue`` still has to put a message on
the broker and read its result state; that is done by a :class:`Dispatcher` that the
Celery layer provides (``tasks.enqueue``) and registers as the entry point ``celery`` of
the group ``maintenance.dispatch`` (pyproject.toml). It is looked up by name at run time,
so no module here imports ``tasks`` or Celery.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

from maintenance.errors import ConfigError
from maintenance.results import Trigger

GROUP = "maintenance.dispatch"

#: Celery result states in which the message will not run (again) by itself.
READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED", "REJECTED", "IGNORED"})


class Dispatcher(Protocol):
    def send(self, task: str, kwargs: dict[str, Any], *, trigger: Trigger) -> str:
        """Send ``task`` to the workers; return its Celery task id. Raise
        ServiceUnavailable, naming the setting, when the broker does not answer."""
        ...

    def state(self, celery_task_id: str) -> str:
        """The Celery result state (PENDING, STARTED, RETRY, SUCCESS, FAILURE ...)."""
        ...

    def ping(self, timeout_s: float) -> list[str]:
        """The names of the workers that answered a ping within ``timeout_s`` (the
        health check's Celery probe). Raise ServiceUnavailable when the broker does not
        answer."""
        ...


def load(name: str = "celery") -> Dispatcher:
    """The installed dispatcher ``name``."""
    found = entry_points(group=GROUP, name=name)
    if not found:
        raise ConfigError(
            f"no {GROUP!r} entry point {name!r} is installed: reinstall the suite "
            "(scripts/bootstrap) to send work to the workers"
        )
    factory = next(iter(found)).load()
    dispatcher: Dispatcher = factory()
    return dispatcher
