"""`explain`: each stuck state made for real on the cluster under test (both store backends),
then explained — the first finding's cause, and text that names the ids, the times and the fix.

Time is passed in (`now`): a job made a second ago is explained as it will read 12 minutes
later, so a dead worker needs no 5-minute wait. Where a cause lives in config.yml, a real file
in tmp_path is judged by the service doctor against the cluster it names (the cluster under
test, or the FAKE secured Elasticsearch of tests/fakes for privileges)."""

from __future__ import annotations

import socket
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluice.core.checks.result import CheckResult
from sluice.core.invocation import sluice_command
from sluice.core.protocol import JobStatus, JobType, WorkerIdentity
from sluice.core.protocol.timeutil import iso_now, to_iso, utc_now
from sluice.core.workflows.explain import (
    CLEANUP_AFTER,
    Explanation,
    Finding,
    UnknownTarget,
    clock,
    explain,
)
from tests.conftest import es_settings
from tests.fakes.fake_security import FakeElasticsearch

pytestmark = pytest.mark.es

ORIGIN = {"X-elastic-product-origin": "connectors"}
SLUICE = sluice_command()
RUNNERS = {"sluice": frozenset({"dir"}), "elastic": frozenset({"confluence", "jira"})}


# ---------------------------------------------------------------------------- helpers


async def configured(harness, **overrides: Any):
    connector = await harness.connector(**overrides)
    await harness.store.update_configuration(
        connector.id, schema={"directory": {"label": "Directory", "value": "/data"}}
    )
    return connector


async def patch_connector(harness, connector_id: str, fields: dict[str, Any]) -> None:
    """Write fields the store would refuse or never write (a broken record, as found)."""
    await harness.es.options(headers=ORIGIN).update(
        index=harness.names.connectors, id=connector_id, doc=fields, refresh=True
    )


async def patch_job(harness, job_id: str, fields: dict[str, Any]) -> None:
    await harness.es.options(headers=ORIGIN).update(
        index=harness.names.jobs, id=job_id, doc=fields, refresh=True
    )


async def replace_job(harness, job_id: str, **fields: Any) -> None:
    """Rewrite the whole job document (a partial update cannot drop a nested key)."""
    doc = {**await harness.raw_job(job_id), **fields}
    await harness.es.options(headers=ORIGIN).index(
        index=harness.names.jobs, id=job_id, document=doc, refresh=True
    )


def write_config(
    path: Path, entries: list[dict[str, str]], elasticsearch: dict[str, Any] | None = None
) -> Path:
    data = {"elasticsearch": elasticsearch or es_settings(), "connectors": entries}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


def later(minutes: float) -> datetime:
    return utc_now() + timedelta(minutes=minutes)


def text(finding: Finding) -> str:
    return f"{finding.title} {finding.detail} {finding.fix}"


def causes(result: Explanation) -> list[str]:
    return [f.cause for f in result.findings]


def dead_pid() -> int:
    """The id of a process that ran and exited (with `ticks=1` below, a later process
    reusing the number still reads as another one)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


async def no_checks(settings: Any, **kwargs: Any) -> list[CheckResult]:
    """Cluster checks that report nothing: the doctor judges config.yml alone."""
    return []


# ---------------------------------------------------------------------------- no service


async def test_a_pending_job_no_service_claims(harness, tmp_path):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    config = write_config(
        tmp_path / "config.yml", [{"connector_id": connector.id, "service_type": "dir"}]
    )

    result = await explain(
        harness.store,
        job_id,
        now=later(14),
        config_path=config,
        runnable_types=RUNNERS,
    )
    assert (result.target_kind, result.target_id, result.job_id) == ("job", job_id, job_id)
    assert result.connector_id == connector.id
    assert result.summary == f"job {job_id} pending for 14 min; no service has claimed it"
    assert not result.healthy
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("no_service", "likely")
    assert causes(result) == ["no_service"]  # config.yml, type and cluster are fine
    assert first.title == f"No service runs connector {connector.id}"
    assert "no service has checked in for this connector yet" in first.detail
    assert f"job {job_id} has waited 14 min" in first.detail
    assert f"`{SLUICE} run -c {config}`" in first.fix
    assert f"`{SLUICE} deploy {connector.id}`" in first.fix


async def test_a_stale_check_in_says_when_the_service_stopped(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    result = await explain(harness.store, connector.id, now=later(3 * 60))
    first = result.findings[0]
    assert first.cause == "no_service"
    assert "last check-in 3 h ago" in first.detail and "stopped" in first.detail
    assert result.summary.startswith(
        f"connector {connector.id} (dir, status configured): last check-in 3 h ago; "
        "0 job(s) running, 0 waiting"
    )


# ---------------------------------------------------------------------------- config.yml, type


async def test_config_yml_names_another_service_type(harness, tmp_path):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    config = write_config(
        tmp_path / "config.yml", [{"connector_id": connector.id, "service_type": "mysql"}]
    )
    result = await explain(
        harness.store, job_id, config_path=config, runnable_types=RUNNERS, checks=no_checks
    )
    assert causes(result) == ["service_type_mismatch", "no_service"]
    first = result.findings[0]
    assert first.likelihood == "certain"
    assert first.detail == (
        "config.yml says service_type 'mysql' for this connector, the record says 'dir'"
    )
    assert "`service_type: dir`" in first.fix and "restart the service" in first.fix


async def test_config_yml_without_the_connector(harness, tmp_path):
    connector = await configured(harness)
    other = f"other-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path / "config.yml", [{"connector_id": other, "service_type": "dir"}])
    result = await explain(
        harness.store, connector.id, config_path=config, runnable_types=RUNNERS, checks=no_checks
    )
    first = result.findings[0]
    assert first.cause == "not_in_config"
    assert f"lists {other} but not {connector.id}" in first.detail
    assert f"- connector_id: {connector.id}" in first.fix


async def test_the_chosen_runner_has_no_source_for_the_type(harness, tmp_path):
    connector = await configured(harness, service_type="confluence")
    config = write_config(
        tmp_path / "config.yml", [{"connector_id": connector.id, "service_type": "confluence"}]
    )
    chosen = await explain(
        harness.store,
        connector.id,
        config_path=config,
        runnable_types=RUNNERS,
        target="sluice",
        checks=no_checks,
    )
    first = chosen.findings[0]
    assert first.cause == "no_source_for_type"
    assert first.detail == "Sluice has no 'confluence' source: it never takes this connector"

    # left to pick: Elastic's service runs confluence, and nobody has a source for "nosuch"
    picked = await explain(
        harness.store, connector.id, config_path=config, runnable_types=RUNNERS, checks=no_checks
    )
    assert "no_source_for_type" not in causes(picked)
    no_service = next(f for f in picked.findings if f.cause == "no_service")
    assert "start Elastic's connector service" in no_service.fix
    odd = await configured(harness, service_type="nosuch")
    odd_config = write_config(
        tmp_path / "odd.yml", [{"connector_id": odd.id, "service_type": "nosuch"}]
    )
    result = await explain(
        harness.store, odd.id, config_path=odd_config, runnable_types=RUNNERS, checks=no_checks
    )
    assert result.findings[0].detail == (
        "Elastic's connector service has no 'nosuch' source: it never takes this connector"
    )


# ---------------------------------------------------------------------------- version, privileges


async def test_a_service_release_the_cluster_refuses(harness, tmp_path, es):
    version = str((await es.info())["version"]["number"])
    major, minor = (int(part) for part in version.split(".")[:2])
    if (major, minor) >= (9, 6):
        pytest.skip(f"Elasticsearch {version} accepts Elastic's service 9.6.0")
    connector = await configured(harness, service_type="confluence")
    config = write_config(
        tmp_path / "config.yml", [{"connector_id": connector.id, "service_type": "confluence"}]
    )
    result = await explain(
        harness.store,
        connector.id,
        config_path=config,
        target="docker",
        service_version="9.6.0",
    )
    first = result.findings[0]
    assert first.cause == "version_refused"
    assert first.detail.startswith(f"Elastic's service 9.6.0 refuses Elasticsearch {version}")
    assert first.fix.startswith(f"deploy release {version}")


@pytest.fixture
def secured_es():
    """A FAKE Elasticsearch with security on, in front of the stand-in when that is plain."""
    settings = es_settings()
    plain = str(settings["host"]).startswith("http://") and not (
        settings.get("api_key") or settings.get("username")
    )
    with FakeElasticsearch(upstream=str(settings["host"]) if plain else None) as fake:
        yield fake


async def test_the_services_credentials_lack_a_privilege(harness, tmp_path, secured_es):
    connector = await configured(harness)
    key = secured_es.add_api_key(
        "k-explain",
        "k-explain-secret",
        "reader-key",
        "elastic",
        cluster={"monitor"},
        indices=[([connector.index_name], {"read"})],
    )
    config = write_config(
        tmp_path / "config.yml",
        [{"connector_id": connector.id, "service_type": "dir"}],
        elasticsearch={"host": secured_es.url, "api_key": key, "max_retries": 0},
    )
    result = await explain(harness.store, connector.id, config_path=config, runnable_types=RUNNERS)
    first = result.findings[0]
    assert first.cause == "missing_privileges"
    assert first.detail.startswith(
        "Privileges for the connector: missing: cluster manage_connector"
    )
    assert "manage_connector" in first.fix
    assert key not in str(result.as_dict()) and "k-explain-secret" not in str(result.as_dict())


# ---------------------------------------------------------------------------- dead workers


async def test_a_job_held_by_a_dead_instance_elsewhere(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    worker = WorkerIdentity("build-host", 4242, "0123456789ab", iso_now())
    assert await harness.store.claim_job(job_id, "build-host", worker=worker)
    job = await harness.store.get_job(job_id)
    due = job.last_seen + CLEANUP_AFTER

    soon = await explain(harness.store, job_id, now=job.last_seen + timedelta(minutes=2))
    first = soon.findings[0]
    assert (first.cause, first.likelihood, first.job_id) == ("dead_worker", "likely", job_id)
    assert "Sluice on build-host (pid 4242)" in first.detail
    assert "last heartbeat was 2 min ago" in first.detail
    assert f"Cleanup fails it from {clock(due)} (in 3 min" in first.detail
    assert "on build-host" in first.fix and "resumes job" in first.fix
    assert f"`{SLUICE} sync {connector.id}`" in first.fix

    late = await explain(harness.store, job_id, now=job.last_seen + timedelta(minutes=12))
    first = late.findings[0]
    assert (first.cause, first.likelihood) == ("dead_worker", "certain")
    assert late.summary.startswith(f"job {job_id} in progress, last heartbeat 12 min ago")
    # no service checks in for the connector: nobody is there to run the cleanup
    assert f"Cleanup could fail it since {clock(due)} (7 min ago)" in first.detail
    assert "no service" in first.detail
    assert "no_service" in causes(late)
    # silent past the cleanup delay: `sluice sync` resumes it from any machine
    assert f"`{SLUICE} sync {connector.id}` here" in first.fix


async def test_a_job_whose_worker_on_this_host_is_gone(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    here = socket.gethostname()
    pid = dead_pid()
    worker = WorkerIdentity(here, pid, "deadbeef0000", iso_now(), ticks=1)
    assert await harness.store.claim_job(job_id, here, worker=worker)

    result = await explain(harness.store, job_id)  # its heartbeat is fresh: only the pid tells
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("dead_worker_here", "certain")
    assert f"pid {pid} on {here} (this machine)" in first.detail
    assert "no longer runs" in first.detail
    assert f"`{SLUICE} run -c config.yml` here" in first.fix and "resumes job" in first.fix


async def test_a_hung_worker_on_this_host(harness):
    """The process still runs (this test's own parent stands in for it) but sends nothing."""
    import os

    from sluice.core.processes import start_time

    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    here, pid = socket.gethostname(), os.getppid()
    worker = WorkerIdentity(here, pid, "cafe00000000", iso_now(), ticks=start_time(pid))
    assert await harness.store.claim_job(job_id, here, worker=worker)
    result = await explain(harness.store, job_id, now=later(3))
    first = result.findings[0]
    assert first.cause == "worker_hung_here"
    assert f"`kill {pid}`" in first.fix


# ---------------------------------------------------------------------------- canceling


async def test_a_cancel_whose_worker_is_gone(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-gone")
    await harness.store.request_cancel(job_id)
    result = await explain(harness.store, job_id, now=later(8))
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("cancel_stuck", "certain")
    assert f"job {job_id} has been canceling for 8 min" in first.detail
    assert "Sluice on host-gone (pid" in first.detail and "Cleanup" in first.detail
    assert "on host-gone" in first.fix and f"cancels job {job_id} at once" in first.fix
    assert result.summary.startswith(f"job {job_id} canceling for 8 min, last heartbeat 8 min ago")

    # claimed by Elastic's service instead (no Sluice instance recorded): restart that one
    await replace_job(harness, job_id, metadata={})
    elastic = (await explain(harness.store, job_id, now=later(8))).findings[0]
    assert elastic.cause == "cancel_stuck"
    assert "the service on host-gone" in elastic.detail
    assert elastic.fix.startswith("restart the connector service on host-gone")


async def test_a_cancel_the_live_worker_does_not_notice(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-deaf")
    await harness.store.request_cancel(job_id)
    now = utc_now()
    await patch_job(
        harness,
        job_id,
        {"cancelation_requested_at": to_iso(now - timedelta(minutes=10)), "last_seen": to_iso(now)},
    )
    result = await explain(harness.store, job_id, now=now)
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("cancel_unnoticed", "likely")
    assert "canceling for 10 min" in first.detail and "heartbeat 0 s ago" in first.detail
    assert "host-deaf" in first.fix


# ---------------------------------------------------------------------------- locks, queues


async def test_a_connector_locked_by_jobs_that_no_longer_exist(harness):
    connector = await configured(harness)
    done = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(done, "host-a")
    await harness.store.complete_job(done)
    await harness.store.check_in(connector.id)
    await patch_connector(
        harness,
        connector.id,
        {"last_sync_status": "in_progress", "last_access_control_sync_status": "canceling"},
    )
    waiting = await harness.store.create_job(connector.id)
    assert not await harness.store.claim_job(waiting, "host-b")  # the lock refuses it

    result = await explain(harness.store, connector.id)
    assert causes(result) == ["orphan_lock", "orphan_lock"]
    content, access = result.findings
    assert f"connector {connector.id} has last_sync_status: in_progress" in content.detail
    assert "no content job of it is in progress or canceling" in content.detail
    assert "last_access_control_sync_status: canceling" in access.detail
    assert f"`{SLUICE} run -c config.yml`" in content.fix and "cleanup" in content.fix

    as_job = await explain(harness.store, waiting)  # the waiting job: the content lock only
    assert causes(as_job) == ["orphan_lock"]
    assert as_job.summary.startswith(f"job {waiting} pending for ")


async def test_a_job_queued_behind_a_running_one(harness):
    connector = await configured(harness)
    running = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(running, "host-a")
    await harness.store.check_in(connector.id)
    waiting = await harness.store.create_job(connector.id, JobType.INCREMENTAL)

    result = await explain(harness.store, waiting)
    assert result.healthy
    assert causes(result) == ["queued_behind"]
    assert result.summary.startswith("nothing is stuck: ")
    assert f"it waits for job {running} of the same connector to finish" in result.summary
    assert f"`{SLUICE} job cancel {running}`" in result.findings[0].fix

    # the running one's worker died: that is the cause, the queue its consequence
    dead = await explain(harness.store, waiting, now=later(12))
    assert causes(dead)[0] == "dead_worker"
    assert dead.findings[0].job_id == running
    assert "queued_behind" in causes(dead)


async def test_a_suspended_job_waits_to_be_resumed(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await harness.store.suspend_job(job_id)
    result = await explain(harness.store, job_id, now=later(30))
    assert result.summary.startswith(f"job {job_id} suspended (created 30 min ago); no service")
    assert result.findings[0].cause == "no_service"
    assert f"job {job_id} has waited 30 min" in result.findings[0].detail


async def test_a_pending_job_a_live_service_leaves_waiting(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    job_id = await harness.store.create_job(connector.id)

    fresh = await explain(harness.store, job_id)
    assert fresh.healthy and fresh.findings == ()
    assert fresh.summary.startswith(f"nothing is stuck: job {job_id} pending for ")
    assert "picks it up" in fresh.summary

    slow = await explain(harness.store, job_id, now=later(4))
    first = slow.findings[0]
    assert (first.cause, first.job_id) == ("pending_unclaimed", job_id)
    assert f"job {job_id} has waited 4 min" in first.detail
    assert "checked in for connector" in first.detail and "4 min ago" in first.detail
    assert f"`{SLUICE} monitor`" in first.fix


# ---------------------------------------------------------------------------- error, config state


async def test_a_connector_in_error(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await harness.store.fail_job(job_id, "disk full while indexing")
    await harness.store.update_error(connector.id, "directory /data does not exist")
    await harness.store.check_in(connector.id)

    result = await explain(harness.store, connector.id)
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("connector_error", "certain")
    assert first.detail == (
        f"connector {connector.id} is in status error: directory /data does not exist; "
        "its last sync failed: disk full while indexing"
    )
    assert f"`{SLUICE} connector configure {connector.id} --set KEY=VALUE`" in first.fix
    assert f"`{SLUICE} job show {job_id}`" in first.fix

    ended = await explain(harness.store, job_id)  # the failed job itself: over, not stuck
    assert ended.healthy and causes(ended) == ["job_failed"]
    assert ended.summary.startswith(f"nothing is stuck: job {job_id} ended error ")
    assert "disk full while indexing" in ended.findings[0].detail


async def test_schedules_of_an_unconfigured_connector_wait(harness):
    connector = await harness.connector()
    await harness.store.check_in(connector.id)
    await harness.store.update_scheduling(
        connector.id, {"full": {"enabled": True, "interval": "0 0 * * * ?"}}
    )
    result = await explain(harness.store, connector.id)
    first = result.findings[0]
    assert first.cause == "schedule_blocked"
    assert "status created" in first.detail


# ---------------------------------------------------------------------------- schedules


async def test_an_invalid_cron_with_scheduling_enabled(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    await patch_connector(
        harness, connector.id, {"scheduling": {"full": {"enabled": True, "interval": "0 0 * * *"}}}
    )
    result = await explain(harness.store, connector.id)
    first = result.findings[0]
    assert (first.cause, first.likelihood) == ("invalid_schedule", "certain")
    assert "scheduling.full is enabled with interval '0 0 * * *'" in first.detail
    assert "has 5 fields; a Quartz cron has 6 or 7" in first.detail
    assert f"`{SLUICE} connector schedule {connector.id} --full '0 0 * * * ?'`" in first.fix


async def test_schedules_that_never_fire(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    await patch_connector(
        harness,
        connector.id,
        {
            "features": {"incremental_sync": {"enabled": True}},
            "scheduling": {
                "full": {"enabled": True, "interval": "0 0 0 1 1 ? 2099"},
                "incremental": {"enabled": True, "interval": "0 0 0 1 1 ? 2001"},
            },
        },
    )
    result = await explain(harness.store, connector.id)
    assert causes(result) == ["schedule_never_fires", "schedule_never_fires"]
    full, incremental = result.findings
    assert "next fires at 2099-01-01 00:00:00 UTC, more than 5 years from now" in full.detail
    assert "scheduling.incremental" in incremental.detail and "never fires again" in (
        incremental.detail
    )
    assert "--incremental '0 0 * * * ?'" in incremental.fix


async def test_a_schedule_for_a_feature_that_is_off(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    await patch_connector(
        harness,
        connector.id,
        {"scheduling": {"access_control": {"enabled": True, "interval": "0 0 * * * ?"}}},
    )
    result = await explain(harness.store, connector.id)
    assert causes(result) == ["schedule_ignored"]
    assert "feature document_level_security is off" in result.findings[0].detail
    assert "--disable access_control" in result.findings[0].fix


async def test_all_schedules_disabled_is_information(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    result = await explain(harness.store, connector.id)
    assert result.healthy
    assert causes(result) == ["no_schedule"]
    assert result.findings[0].likelihood == "info"
    assert f"`{SLUICE} job start {connector.id}`" in result.findings[0].fix
    assert result.summary.startswith(f"nothing is stuck: connector {connector.id} (dir, status ")

    # a healthy schedule: nothing to say at all
    await harness.store.update_scheduling(
        connector.id, {"full": {"enabled": True, "interval": "0 0 * * * ?"}}
    )
    assert (await explain(harness.store, connector.id)).findings == ()


# ---------------------------------------------------------------------------- ids


async def test_an_unknown_id_is_an_error_naming_it(harness):
    with pytest.raises(UnknownTarget) as caught:
        await explain(harness.store, "no-such-id-anywhere")
    assert caught.value.target_id == "no-such-id-anywhere"
    assert "no connector or sync job with id 'no-such-id-anywhere'" in str(caught.value)


async def test_a_deleted_connector_and_its_job(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    await harness.store.delete_connector(connector.id)
    for target in (connector.id, job_id):
        result = await explain(harness.store, target)
        assert result.findings[0].cause == "connector_deleted"
        assert connector.id in result.findings[0].detail
        assert result.connector_id == connector.id


async def test_a_running_job_with_fresh_heartbeats_is_not_stuck(harness):
    connector = await configured(harness)
    await harness.store.check_in(connector.id)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    result = await explain(harness.store, job_id)
    assert result.healthy and result.findings == ()
    assert result.summary.startswith(f"nothing is stuck: job {job_id} in progress, last heartbeat")
    assert result.as_dict() == {
        "target_kind": "job",
        "target_id": job_id,
        "connector_id": connector.id,
        "job_id": job_id,
        "summary": result.summary,
        "healthy": True,
        "findings": [],
    }
    status = (await harness.store.get_job(job_id)).status
    assert status is JobStatus.IN_PROGRESS  # explaining wrote nothing


def test_clock_reads_utc():
    moment = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
    assert clock(moment) == "2026-03-14 09:26:53 UTC"
