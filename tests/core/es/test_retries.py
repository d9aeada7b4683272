"""Retries wait: exponential backoff with jitter on 429/502/503/504 and connection errors,
`Retry-After` honoured, TLS errors never retried. Measured against the fake server."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from elastic_transport import ConnectionError, TlsError
from elasticsearch import ApiError

from sluice.core.es import BackoffPolicy, build_client, parse_retry_after
from tests.fakes.fake_security import Canned

FAST = {"initial_backoff_duration": 0.05, "backoff_multiplier": 2, "max_wait_duration": 5}


def settings(fake, **extra):
    fake.cluster.security = "off"
    return {"host": fake.url, "max_retries": 3, **FAST, **extra}


async def _timed_info(config):
    client = build_client(config)
    start = time.monotonic()
    try:
        return await client.info(), time.monotonic() - start
    finally:
        await client.close()


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    policy = BackoffPolicy(initial=1, multiplier=2, max_wait=5)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(5)]
    for attempt, delay in enumerate(delays):
        ceiling = min(5, 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == 5  # jittered, not lockstep


def test_retry_after_forms():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    http_date = format_datetime(now + timedelta(seconds=4), usegmt=True)
    assert parse_retry_after(http_date, now=now) == pytest.approx(4.0)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=9), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_503_with_retry_after_is_waited_for(fake_es):
    fake_es.queue(
        "/",
        Canned(503, {"Retry-After": "1"}, {"error": "busy"}),
        Canned(503, {"Retry-After": "1"}, {"error": "busy"}),
    )
    body, elapsed = await _timed_info(settings(fake_es))
    assert body["tagline"]
    assert fake_es.count("/") == 3
    assert 2.0 <= elapsed < 4.0


async def test_429_without_retry_after_backs_off_exponentially(fake_es):
    fake_es.queue("/", *[Canned(429, {}, {"error": "too many"}) for _ in range(3)])
    config = settings(fake_es, initial_backoff_duration=0.2)
    body, elapsed = await _timed_info(config)
    assert body["tagline"]
    assert fake_es.count("/") == 4
    # waits of [0.1-0.2] + [0.2-0.4] + [0.4-0.8] seconds
    assert 0.7 <= elapsed < 2.5


async def test_502_and_504_are_retried(fake_es):
    html = {"Content-Type": "text/html"}  # what load balancers answer
    fake_es.queue(
        "/",
        Canned(502, html, b"<h1>bad gateway</h1>"),
        Canned(504, html, b"<h1>gateway timeout</h1>"),
    )
    body, _ = await _timed_info(settings(fake_es))
    assert body["tagline"] and fake_es.count("/") == 3


async def test_gives_up_after_max_retries_with_the_last_answer(fake_es):
    fake_es.queue("/", *[Canned(503, {}, {"error": "busy"}) for _ in range(5)])
    with pytest.raises(ApiError) as caught:
        await _timed_info(settings(fake_es, max_retries=2))
    assert caught.value.meta.status == 503
    assert fake_es.count("/") == 3


async def test_retry_after_longer_than_max_wait_returns_at_once(fake_es):
    fake_es.queue("/", Canned(429, {"Retry-After": "3600"}, {"error": "come back later"}))
    start = time.monotonic()
    with pytest.raises(ApiError) as caught:
        await _timed_info(settings(fake_es))
    assert caught.value.meta.status == 429
    assert fake_es.count("/") == 1
    assert time.monotonic() - start < 1


async def test_no_retries_when_max_retries_is_zero(fake_es):
    fake_es.queue("/", Canned(503, {}, {"error": "busy"}))
    with pytest.raises(ApiError):
        await _timed_info(settings(fake_es, max_retries=0))
    assert fake_es.count("/") == 1


async def test_dropped_connections_are_retried_with_backoff(fake_es):
    fake_es.drop_next = 2
    body, elapsed = await _timed_info(settings(fake_es, initial_backoff_duration=0.2))
    assert body["tagline"]
    assert fake_es.count("/") == 3
    assert elapsed >= 0.3


async def test_connection_refused_gives_up_after_the_retries():
    config = {"host": "http://127.0.0.1:9", "max_retries": 2, **FAST}
    client = build_client(config)
    try:
        with pytest.raises(ConnectionError) as caught:
            await client.info()
    finally:
        await client.close()
    assert len(caught.value.errors) == 2  # the two earlier attempts, kept for the record


async def test_tls_errors_are_not_retried(tls_urls):
    config = {"host": tls_urls["self_signed"], "max_retries": 5, "initial_backoff_duration": 2}
    client = build_client(config)
    start = time.monotonic()
    try:
        with pytest.raises(TlsError):
            await client.info()
    finally:
        await client.close()
    assert time.monotonic() - start < 1.5
