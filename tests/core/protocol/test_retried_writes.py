"""Lost answers to writes (reliability issue 12): the server applies a write, its answer
never arrives (connection reset), the client's transport sends it again and gets 409 (or,
for the Connector API's cancel, 400). A TCP fault proxy in front of the local servers
(tests/servers/fault_proxy.py) drops exactly that answer. The store must recognise its own
write, the connector must not be left stuck, and the next sync must work right after."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import ConnectorStore, InvalidRequest, JobStatus, JobType, SyncStats
from tests.servers.fault_proxy import FaultProxy

pytestmark = pytest.mark.es

SCHEMA = {"directory": {"label": "Directory", "type": "str", "value": "/data", "order": 1}}


@dataclass
class Proxied:
    proxy: FaultProxy
    store: ConnectorStore

    def drop(self, pattern: str) -> str:
        self.proxy.drop_answer(pattern)
        return pattern

    def assert_lost_and_resent(self, pattern: str) -> None:
        """The answer was dropped and the transport sent the request again."""
        assert len(self.proxy.dropped) == 1, self.proxy.requests
        assert len(self.proxy.matching(pattern)) >= 2, self.proxy.requests


def conditional_write(index: str, doc_id: str) -> str:
    """Request line of a conditional write of `doc_id` in `index`."""
    return rf"^PUT /{re.escape(index)}/_doc/{re.escape(doc_id)}\?\S*if_seq_no"


@pytest.fixture
async def proxied(harness) -> AsyncIterator[Proxied]:
    """A second store of the harness's backend talking through the fault proxy, whose
    client resends quickly (the resend is what turns a lost answer into a 409)."""
    if harness.backend == "api":
        pytest.skip("the fault proxy runs against the local stand-in and the fake API")
    proxy = FaultProxy(harness.settings["host"]).start()
    settings = {**harness.settings, "host": proxy.url, "initial_backoff_duration": 0.05}
    client = build_client(settings)
    store = type(harness.store)(client, index_prefix=harness.names.prefix)
    try:
        yield Proxied(proxy, store)
    finally:
        await client.close()
        proxy.stop()


async def configured(harness):
    connector = await harness.connector()
    await harness.store.update_configuration(connector.id, schema=SCHEMA)
    return connector


async def assert_next_sync_works(harness, connector_id: str) -> None:
    """Not stuck: the connector is free, and a new job claims, runs and completes."""
    connector = await harness.store.get_connector(connector_id)
    assert connector.last_sync_status not in (JobStatus.IN_PROGRESS, JobStatus.CANCELING)
    job_id = await harness.store.create_job(connector_id)
    assert await harness.store.claim_job(job_id, "host-b")
    done = await harness.store.complete_job(job_id)
    assert done.status is JobStatus.COMPLETED
    after = await harness.store.get_connector(connector_id)
    assert after.last_sync_status is JobStatus.COMPLETED


async def test_lost_answer_to_the_connector_lock(harness, proxied):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    lock = proxied.drop(conditional_write(harness.names.connectors, connector.id))

    assert await proxied.store.claim_job(job_id, "host-a") is True  # was False: "busy"
    proxied.assert_lost_and_resent(lock)
    job = await harness.store.get_job(job_id)
    assert (job.status, job.worker_hostname) == (JobStatus.IN_PROGRESS, "host-a")
    assert job.worker is not None and job.worker.host == "host-a"
    locked = await harness.store.get_connector(connector.id)
    assert locked.last_sync_status is JobStatus.IN_PROGRESS

    await proxied.store.complete_job(job_id, SyncStats(indexed_document_count=3))
    await assert_next_sync_works(harness, connector.id)


async def test_lost_answer_to_the_job_claim(harness, proxied):
    """Index backend: the claim itself is the conditional write. Connector-API backend:
    `_claim`, then the conditional write recording the instance."""
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    claim = proxied.drop(conditional_write(harness.names.jobs, job_id))

    assert await proxied.store.claim_job(job_id, "host-a") is True
    proxied.assert_lost_and_resent(claim)
    job = await harness.store.get_job(job_id)
    assert job.status is JobStatus.IN_PROGRESS
    assert job.worker is not None and job.worker.host == "host-a"
    # only one instance's claim: a second claimer is still refused
    assert await harness.store.claim_job(job_id, "host-b") is False

    await proxied.store.complete_job(job_id)
    await assert_next_sync_works(harness, connector.id)


async def test_lost_answer_to_the_claim_endpoint(harness, proxied):
    """`_claim` (Connector API) is unconditional and writes the same fields again: its
    resend is harmless, and the claim stands."""
    if harness.fake is None:
        pytest.skip("the Connector API's `_claim`")
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    claim = proxied.drop(rf"^PUT /_connector/_sync_job/{re.escape(job_id)}/_claim")

    assert await proxied.store.claim_job(job_id, "host-a") is True
    proxied.assert_lost_and_resent(claim)
    job = await harness.store.get_job(job_id)
    assert job.status is JobStatus.IN_PROGRESS and job.worker.host == "host-a"
    await proxied.store.complete_job(job_id)
    await assert_next_sync_works(harness, connector.id)


@pytest.mark.parametrize("ending", ["complete", "fail", "cancel", "suspend"])
async def test_lost_answer_to_ending_the_job(harness, proxied, ending):
    """The ending applied, its resend got 409: it was ours, so the connector's bookkeeping
    follows (before the fix: InvalidTransition "[completed] to [completed]", and the
    connector stayed `in_progress`)."""
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    end = proxied.drop(conditional_write(harness.names.jobs, job_id))

    if ending == "fail":
        ended = await proxied.store.fail_job(job_id, "the source went away")
    else:
        ended = await getattr(proxied.store, f"{ending}_job")(job_id)
    proxied.assert_lost_and_resent(end)
    expected = {
        "complete": JobStatus.COMPLETED,
        "fail": JobStatus.ERROR,
        "cancel": JobStatus.CANCELED,
        "suspend": JobStatus.SUSPENDED,
    }[ending]
    assert ended.status is expected
    assert (await harness.store.get_job(job_id)).status is expected
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is expected
    if ending == "suspend":  # a suspended job is resumed, not replaced
        assert await harness.store.claim_job(job_id, "host-b")
        await harness.store.complete_job(job_id)
    await assert_next_sync_works(harness, connector.id)


async def test_lost_answer_to_a_cancel_request(harness, proxied):
    """Index backend: a conditional write. Connector API: `_cancel`, which refuses a job
    already canceling, so its blind resend would have failed on its own success."""
    connector = await configured(harness)
    running = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(running, "host-a")
    if harness.fake is None:
        cancel = conditional_write(harness.names.jobs, running)
    else:
        cancel = rf"^PUT /_connector/_sync_job/{re.escape(running)}/_cancel"
    proxied.drop(cancel)

    await proxied.store.request_cancel(running)  # no error
    if harness.fake is None:
        proxied.assert_lost_and_resent(cancel)
    else:  # sent once, then read back: canceling, so it took effect
        assert len(proxied.proxy.dropped) == 1 and len(proxied.proxy.matching(cancel)) == 1
    assert (await harness.store.get_job(running)).status is JobStatus.CANCELING
    # a real second cancel is still refused, in words
    with pytest.raises(InvalidRequest, match="canceling"):
        await proxied.store.request_cancel(running)
    await harness.store.cancel_job(running)
    await assert_next_sync_works(harness, connector.id)


async def test_lost_answer_to_the_scheduling_mark(harness, proxied):
    """The mark that lets one instance create a scheduled job: a lost answer used to look
    like another instance's mark, so nobody created the job."""
    connector = await configured(harness)
    versioned = await proxied.store.read_connector_versioned(connector.id)
    mark = proxied.drop(conditional_write(harness.names.connectors, connector.id))
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    marked = await proxied.store.mark_scheduled(versioned, JobType.FULL, at)
    assert marked is not None
    proxied.assert_lost_and_resent(mark)
    assert (await harness.store.get_connector(connector.id)).scheduled_at(JobType.FULL) == at


async def test_a_real_conflict_is_still_a_conflict(harness, proxied):
    """Someone else's write in between: the token is not ours, the write is refused."""
    connector = await configured(harness)
    stale = await proxied.store.read_connector_versioned(connector.id)
    await harness.store.check_in(connector.id)  # another instance writes first
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert await proxied.store.mark_scheduled(stale, JobType.FULL, at) is None
    assert proxied.proxy.dropped == []
