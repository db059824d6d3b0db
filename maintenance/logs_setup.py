"""Structured logging: JSON lines (or a console renderer for people), carrying the task
name, run id and trigger bound by the run recorder, with every secret scrubbed.

Standard-library loggers (Celery's, SQLAlchemy's) go through the same processors, so a
worker's whole output is one JSON stream.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from maintenance import redact


def _scrub_event(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: redact.scrub_value(v) if k != "timestamp" else v for k, v in event_dict.items()}


_configured: tuple[str, str] | None = None


def configure(level: str = "INFO", fmt: str = "json", *, force: bool = False) -> None:
    """Configure structlog and the root logger once per process (again with ``force``)."""
    global _configured
    if _configured == (level, fmt) and not force:
        return
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _scrub_event,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(default=str)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQLAlchemy's engine logs statements (and parameters) at INFO: keep it quiet.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    _configured = (level, fmt)


def get_logger(name: str = "maint") -> Any:
    return structlog.get_logger(name)
