"""Attempts with exponential backoff, shared by the channels (pure apart from the sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: Longest wait between two attempts, whatever the backoff or a Retry-After says.
MAX_WAIT_S = 60.0


@dataclass(frozen=True)
class Try:
    """One attempt: delivered, or the error and whether another attempt could succeed."""

    ok: bool
    error: str | None = None
    retry: bool = False
    #: What the server asked for (Retry-After), seconds.
    wait_s: float | None = None


@dataclass(frozen=True)
class Attempted:
    ok: bool
    attempts: int
    error: str | None


def backoff(attempt: int, base_s: float, hint_s: float | None = None) -> float:
    """Wait after failed attempt number ``attempt`` (1-based): base, 2 x base, 4 x base ...
    or the server's hint when longer; never above :data:`MAX_WAIT_S` (pure)."""
    wait = base_s * 2 ** (attempt - 1)
    if hint_s is not None:
        wait = max(wait, hint_s)
    return min(wait, MAX_WAIT_S)


def attempt(
    once: Callable[[], Try],
    attempts: int,
    base_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Attempted:
    """Call ``once`` until it delivers, says not to retry, or ``attempts`` are spent."""
    last: Try | None = None
    for n in range(1, attempts + 1):
        last = once()
        if last.ok:
            return Attempted(True, n, None)
        if not last.retry or n == attempts:
            return Attempted(False, n, last.error)
        sleep(backoff(n, base_s, last.wait_s))
    raise AssertionError("unreachable")  # pragma: no cover
