"""Run the probes at once, each in a daemon thread, and wait for each no longer than its
own time limit and the whole check's bound.

Not a ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so one
probe stuck in a C call (a socket read with no timeout, a DNS lookup) would hold
``maint health`` open after it printed its answer. A daemon thread that has not finished
is left behind: its probe is reported failed ("timed out after N s"), whatever it
returns later is dropped, and the process may exit under it. Every probe also sets its
own sockets' timeouts, so a thread left behind in a worker ends soon after anyway.

A probe never raises out of :func:`run`: its exception becomes its outcome's ``error``
(type and message, secrets masked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from maintenance import redact


@dataclass(frozen=True)
class Probe:
    """One thing to read: a name, the component it belongs to, a function, a limit."""

    name: str
    component: str
    read: Callable[[], Any]
    timeout_s: float


@dataclass(frozen=True)
class Outcome:
    """What became of one probe: its value, or why there is none."""

    name: str
    value: Any = None
    error: str | None = None
    #: Set when the probe had not finished in its time: the limit it was given.
    timed_out_s: float | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.timed_out_s is None

    @property
    def problem(self) -> str | None:
        """Why there is no value, in words (None when there is one)."""
        if self.timed_out_s is not None:
            return f"timed out after {self.timed_out_s:g} s"
        return self.error


class _Slot:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: str | None = None
        self.elapsed_ms = 0.0


def describe(exc: BaseException) -> str:
    """An exception as a probe's error: its type and first line, secrets masked."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact.scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _target(probe: Probe, slot: _Slot) -> None:
    t0 = time.monotonic()
    try:
        slot.value = probe.read()
    except BaseException as exc:  # noqa: BLE001 - a probe never raises out of the check
        slot.error = describe(exc)
    finally:
        slot.elapsed_ms = (time.monotonic() - t0) * 1000
        slot.done.set()


def run(probes: Sequence[Probe], bound_s: float) -> dict[str, Outcome]:
    """Start every probe, wait for each until its limit (never past ``bound_s`` from the
    start), return the outcome of each by name."""
    start = time.monotonic()
    slots: list[tuple[Probe, _Slot]] = []
    for probe in probes:
        slot = _Slot()
        thread = threading.Thread(
            target=_target, args=(probe, slot), name=f"health-{probe.name}", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # no thread to be had (a process at its limit)
            slot.error = describe(exc)
            slot.done.set()
        slots.append((probe, slot))
    out: dict[str, Outcome] = {}
    for probe, slot in slots:
        limit = min(probe.timeout_s, bound_s)
        slot.done.wait(max(0.0, start + limit - time.monotonic()))
        if slot.done.is_set():
            out[probe.name] = Outcome(probe.name, slot.value, slot.error, None, slot.elapsed_ms)
        else:
            out[probe.name] = Outcome(probe.name, timed_out_s=limit, elapsed_ms=limit * 1000)
    return out
