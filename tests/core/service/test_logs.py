"""Service logs: ECS JSON lines that Elastic's log pipelines ingest as they are."""

from __future__ import annotations

import io
import json
import logging

import pytest

from sluice.core.service.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging rewires the root logger: put pytest's handlers back afterwards."""
    root, sluice = logging.getLogger(), logging.getLogger("sluice")
    saved = (root.handlers[:], root.level, sluice.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    sluice.setLevel(saved[2])


def test_ecs_lines_carry_the_ecs_fields():
    stream = io.StringIO()
    configure_logging("INFO", "ecs", stream)
    logging.getLogger("sluice.service").info("job %s completed", "abc")
    logging.getLogger("sluice.service").debug("not shown at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("sluice.engine").exception("sync failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first = lines[0]
    assert first["message"] == "job abc completed"
    assert first["log.level"] == "info" and first["log.logger"] == "sluice.service"
    assert first["ecs.version"] and first["service.name"] == "sluice"
    assert first["@timestamp"].endswith("+00:00")
    assert lines[1]["error.message"] == "boom" and "ValueError" in lines[1]["error.stack_trace"]


def test_plain_lines_for_people():
    stream = io.StringIO()
    configure_logging("DEBUG", "plain", stream)
    logging.getLogger("sluice.service").debug("checking in")
    assert "DEBUG   sluice.service: checking in" in stream.getvalue()


@pytest.mark.parametrize("fmt", ["plain", "ecs"])
def test_a_known_secret_never_reaches_the_service_log(fmt):
    """A password inside an exception message or a URL (a driver's error, a retry line)."""
    from sluice.core.redact import forget_all_secrets, remember_secret

    secret = 's3cr3t-pä"ss'
    remember_secret(secret)
    try:
        stream = io.StringIO()
        configure_logging("INFO", fmt, stream)
        log = logging.getLogger("sluice.service")
        log.warning("cannot connect to postgresql://app:%s@db/app", secret)
        try:
            raise ConnectionError(f"auth failed for password {secret!r}")
        except ConnectionError:
            log.exception("sync failed")
        text = stream.getvalue()
        assert "[REDACTED]" in text
        assert "s3cr3t" not in text
        # only the message and the error are scrubbed: a secret that is also a word of the
        # logger's name ("sluice", the local servers' password) leaves the name whole
        remember_secret("sluice")
        log.info("password sluice refused")
        last = stream.getvalue().splitlines()[-1]
        assert "sluice.service" in last and "password [REDACTED] refused" in last
    finally:
        forget_all_secrets()
