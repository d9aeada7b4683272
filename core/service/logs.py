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
    """One ECS 1.x JSON object per line; what Filebeat/Elastic Agent ingest unchanged. The
    message and the error scrubbed of secrets, as in `PlainFormatter`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "log.level": record.levelname.lower(),
            "message": redact(record.getMessage()),
            "log.logger": record.name,
            "process.pid": record.process,
            "service.name": "sluice",
            "service.version": core.__version__,
            "ecs.version": "1.6.0",
        }
        if record.exc_info:
            entry["error.message"] = redact(str(record.exc_info[1]))
            entry["error.stack_trace"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class PlainFormatter(logging.Formatter):
    """`PLAIN_FORMAT` lines; the message, traceback and stack scrubbed of every secret this
    process knows (`core.redact`), so a password inside an exception or a URL never reaches
    a log. Only those parts: the logger's name and the level are never secrets."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = redact(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))


def configure_logging(
    level: str = "INFO", fmt: str = "plain", stream: TextIO | None = None
) -> None:
    """Route the `sluice` loggers (and warnings from libraries) to `stream`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EcsFormatter() if fmt == "ecs" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("sluice").setLevel(str(level).upper())
