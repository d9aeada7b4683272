"""Service logs in plain text (for people) or ECS JSON (for Elastic's log pipelines)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from sluice import core
from sluice.core.redact import redact


class EcsFormatter(logging.Formatter):
    """One ECS 1.x JSON object per line; what Filebeat/Elastic Agent ingest unchanged."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "log.level": record.levelname.lower(),
            "message": record.getMessage(),
            "log.logger": record.name,
            "process.pid": record.process,
            "service.name": "sluice",
            "service.version": core.__version__,
            "ecs.version": "1.6.0",
        }
        if record.exc_info:
            entry["error.message"] = str(record.exc_info[1])
            entry["error.stack_trace"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Another formatter's line with every secret this process knows scrubbed
    (`core.redact`): a password inside an exception message or a URL never reaches a log."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def configure_logging(
    level: str = "INFO", fmt: str = "plain", stream: TextIO | None = None
) -> None:
    """Route the `sluice` loggers (and warnings from libraries) to `stream`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    inner = EcsFormatter() if fmt == "ecs" else logging.Formatter(PLAIN_FORMAT)
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("sluice").setLevel(str(level).upper())
