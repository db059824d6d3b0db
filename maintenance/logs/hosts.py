"""Logs live on the hosts that write them: each host's log tasks go to its own queue.

The worker on host ``web1`` (``MAINT_LOG_HOST=web1``) consumes ``logs.web1`` besides the
shared queue (``celery -A tasks worker -Q maintenance,logs.web1``); beat sends one
message per task and host in MAINT_LOG_HOSTS to that host's queue, with ``host=web1``
among its parameters. A log task given a host that is not this one refuses to run (a
worker started with the wrong ``-Q`` would otherwise rotate the wrong machine's logs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maintenance.errors import ParamError

PREFIX = "logs."
TASKS = ("logs.rotate", "logs.cleanup", "logs.report")


def queue(host: str) -> str:
    """The queue of ``host``'s log tasks."""
    return f"{PREFIX}{host}"


def queue_for(task: str, kwargs: Mapping[str, Any]) -> str | None:
    """Where a message for ``task`` goes: a log task naming a host goes to that host's
    queue; anything else to the default (None)."""
    host = kwargs.get("host")
    if task.startswith(PREFIX) and isinstance(host, str) and host:
        return queue(host)
    return None


def check_host(task: str, wanted: str | None, here: str) -> None:
    """ParamError unless a run meant for ``wanted`` runs on ``here`` (None: this host)."""
    if wanted is not None and wanted != here:
        raise ParamError(
            f"{task}: this message is for host {wanted!r}, but this worker is "
            f"MAINT_LOG_HOST={here!r}: nothing done (start {wanted}'s worker with "
            f"-Q {queue(wanted)}, and only there)"
        )
