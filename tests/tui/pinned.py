"""Pinned inputs for the visual snapshots: every value a screen shows that would otherwise
change between runs (latencies, free disk, ids, dates, the machine's keyring) is fixed here.

Snapshots check the LOOK of each screen; the Pilot tests check the behaviour against the real
servers. These stand-ins replace core calls, where the screens import them, for the
snapshot tests only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.core.checks.result import CheckResult
from sluice.core.engine.progress import Counters, Failure, Phase, ProgressSnapshot
from sluice.core.protocol import Connector, SyncJob
from sluice.core.secrets import KeyringStatus
from sluice.core.workflows.job_failures import FailureRow
from sluice.core.workflows.sync_reading import SyncReading

WHEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
CONNECTOR_ID = "Zx1cE4oBq2r7sLuice01"


def result(
    check_id: str,
    title: str,
    status: str,
    message: str,
    hint: str | None = None,
    field: str | None = None,
) -> CheckResult:
    return CheckResult(check_id, title, status, message, hint, 1.0, field)  # type: ignore[arg-type]


ENVIRONMENT = [
    result("python", "Python version", "ok", "Python 3.11.7"),
    result(
        "config_folder",
        "Config folder",
        "ok",
        "config.yml can be written in /home/ana/sync",
        field="config_path",
    ),
    result("disk", "Free disk space", "ok", "41.2 GiB free"),
    result(
        "keyring",
        "OS keyring for secrets",
        "warn",
        "no OS keyring here: secrets can go to an environment variable or config.yml",
        "Keep the secret in an environment variable referenced as ${SLUICE_ES_API_KEY}.",
        "secret_placement",
    ),
    result("sandbox", "Local sandbox", "ok", "the local sandbox can start"),
]

CLUSTER = [
    result(
        "connection",
        "Connection and latency",
        "ok",
        "es.example.internal:9200 answered HTTP 200 in 12 ms",
        field="host",
    ),
    result("tls", "TLS certificate", "ok", "verified against ca_certs; valid until 2027-01-31"),
    result("authentication", "Authentication", "ok", "API key 'sluice-setup' of user ana"),
    result("product", "Product and version", "ok", "Elasticsearch 8.15.3 (default distribution)"),
    result("connector_api", "Connector API", "ok", "available (GET _connector answered 200)"),
    result("license", "License", "ok", "basic, active"),
    result("api_keys", "API keys enabled", "ok", "API keys are enabled"),
    result(
        "privileges",
        "Privileges for the connector",
        "warn",
        "missing cluster privilege manage_api_key: no connector-scoped key can be made",
        "grant manage_api_key, or skip the connector API key in step 6",
        "api_key",
    ),
    result("index_name", "Index name", "skip", "no index named"),
    result("index", "Existing index", "skip", "no index named"),
    result("pipeline", "Ingest pipeline", "skip", "no ingest pipeline named"),
]

INDEX_RESULTS = [
    result(
        "index_name",
        "Index name",
        "ok",
        "'search-team-wiki' is a valid content index name",
        field="index_name",
    ),
    result(
        "index",
        "Existing index",
        "ok",
        "'search-team-wiki' doesn't exist yet; it will be created with the connector mappings",
    ),
]


def connector(**extra: Any) -> Connector:
    doc = {
        "name": "Team wiki files",
        "service_type": "dir",
        "index_name": "search-team-wiki",
        "status": "configured",
        "configuration": {},
        "last_sync_status": "completed",
        "description": "Markdown and PDFs of the team wiki",
    }
    doc.update(extra)
    return Connector(CONNECTOR_ID, doc)


JOBS = [
    SyncJob(
        "job-0003",
        {
            "connector": {"id": CONNECTOR_ID},
            "job_type": "full",
            "trigger_method": "on_demand",
            "status": "in_progress",
            "created_at": "2026-03-14T09:26:53Z",
            "started_at": "2026-03-14T09:26:54Z",
            "indexed_document_count": 1200,
            "deleted_document_count": 0,
        },
    ),
    SyncJob(
        "job-0002",
        {
            "connector": {"id": CONNECTOR_ID},
            "job_type": "incremental",
            "trigger_method": "scheduled",
            "status": "completed",
            "created_at": "2026-03-13T02:00:00Z",
            "started_at": "2026-03-13T02:00:01Z",
            "completed_at": "2026-03-13T02:03:12Z",
            "indexed_document_count": 87,
            "deleted_document_count": 3,
        },
    ),
    SyncJob(
        "job-0001",
        {
            "connector": {"id": CONNECTOR_ID},
            "job_type": "full",
            "trigger_method": "on_demand",
            "status": "error",
            "created_at": "2026-03-12T16:40:00Z",
            "started_at": "2026-03-12T16:40:01Z",
            "completed_at": "2026-03-12T16:41:30Z",
            "indexed_document_count": 0,
            "deleted_document_count": 0,
            "error": "directory /srv/wiki does not exist",
        },
    ),
]


class PinnedCluster:
    """`core.workflows.cluster.Cluster` with fixed answers."""

    backend = "api"

    def __init__(self, settings: Any, *, read_only: bool = False) -> None:
        self.settings = dict(settings)

    async def __aenter__(self) -> PinnedCluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def close(self) -> None:
        return None

    async def list_connectors(self) -> list[Connector]:
        return [
            connector(last_seen=None),
            Connector(
                "Qm9vaz3kTt-8PqRsDb02",
                {
                    "name": "Orders database",
                    "service_type": "postgresql",
                    "index_name": "search-orders",
                    "status": "error",
                    "last_sync_status": "error",
                    "error": "password authentication failed",
                },
            ),
        ]

    async def get_connector(self, connector_id: str) -> Connector | None:
        return connector()

    async def create_connector(self, **kwargs: Any) -> Connector:
        return connector()

    async def rename_connector(self, *args: Any) -> None:
        return None

    async def save_configuration(self, *args: Any) -> None:
        return None

    async def list_indices(self) -> list[str]:
        return ["search-orders", "search-team-wiki-old"]

    async def index_checks(self, name: str) -> list[CheckResult]:
        return INDEX_RESULTS

    async def list_jobs(self, connector_id: str | None = None, size: int = 20) -> list[SyncJob]:
        return JOBS


async def _environment(config_path: Any):
    for item in ENVIRONMENT:
        yield item


async def _cluster_checks(settings: Any, **kwargs: Any):
    for item in CLUSTER:
        yield item


class PinnedFeed:
    """A sync frozen mid-way, for the dashboard snapshot."""

    title = "Team wiki files → search-team-wiki"
    connector_id = CONNECTOR_ID
    can_cancel = True
    settings = {"host": "https://es.example.internal:9200"}

    def start(self, screen: Any) -> None:
        return None

    def poll(self) -> SyncReading:
        counters = Counters(
            extracted=1240, indexed=1180, updated=22, unchanged=16, failed=2, bytes=48_500_000
        )
        snapshot = ProgressSnapshot(
            phase=Phase.EXTRACTING,
            counters=counters,
            elapsed=5.9,
            docs_per_second=212.5,
            total=4800,
            phase_rate=(4800 - 1240) / 16.7,  # an ETA of 16.7 s
        )
        return SyncReading("running", snapshot, job_id="job-0003")

    async def close(self) -> None:
        return None

    def cancel(self) -> None:
        return None

    def suspend(self) -> None:
        return None

    def failures(self, limit: int = 200) -> list[FailureRow]:
        items = [
            Failure("handbook/scan-0042.pdf", "index", "file is 14.2 MiB, over the 10 MiB limit"),
            Failure("drafts/~$budget.xlsx", "index", "not a zip file (a lock file of Excel)"),
        ]
        return [FailureRow("09:27:01", f.doc_id, f.operation, f.reason) for f in items]

    def new_log_lines(self) -> list[str]:
        return []


async def _connector_api_available(settings: Any) -> bool:
    return True  # as CLUSTER says: config.yml leaves feature_use_connectors_api out


def pin(monkeypatch: Any, workdir: Path) -> None:
    """Install the pinned inputs and work in `workdir` (so paths read `config.yml`)."""
    monkeypatch.chdir(workdir)
    from sluice.tui import session
    from sluice.tui.screens import dashboard, monitor
    from sluice.tui.screens.steps import elasticsearch
    from sluice.tui.widgets import check_runner

    for module in (session, dashboard, monitor):
        monkeypatch.setattr(module, "Cluster", PinnedCluster)
    from sluice.tui.screens.steps import prerequisites, source_details

    monkeypatch.setattr(
        prerequisites,
        "planned_environment_checks",
        lambda path: [(r.id, r.title) for r in ENVIRONMENT],
    )
    monkeypatch.setattr(prerequisites, "run_environment_checks", _environment)
    monkeypatch.setattr(
        check_runner, "planned_checks", lambda settings, **kw: [(r.id, r.title) for r in CLUSTER]
    )
    monkeypatch.setattr(check_runner, "run_checks", _cluster_checks)
    from sluice.tui.screens.steps import base, config_file, review

    monkeypatch.setattr(config_file, "detect_connector_api", _connector_api_available)
    monkeypatch.setattr(
        config_file,
        "keyring_status",
        lambda: KeyringStatus(
            False,
            "keyring.backends.fail.Keyring",
            "No OS keyring is available here (no Secret Service on D-Bus).",
        ),
    )
    sample = Path("/opt/sluice/sample-data")
    monkeypatch.setattr(source_details, "sample_data_directory", lambda: sample)
    monkeypatch.setattr(elasticsearch, "sandbox_available", lambda: True)
    for module in (base, config_file, review, dashboard):  # PATH differs by machine
        monkeypatch.setattr(module, "sluice_command", lambda: "sluice")
    from sluice.tui.screens.dashboard import DashboardScreen

    # one sparkline sample (at mount) whatever the machine's speed
    monkeypatch.setattr(DashboardScreen, "RATE_SAMPLE_SECONDS", 3600.0)
