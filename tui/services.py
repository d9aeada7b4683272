"""The TUI's only door to core/ and sources/: thin calls, no business logic.

Screens call these functions (from workers) and get plain results back; everything that
decides something — validation rules, protocol writes, config editing, secret storage, the
sync itself — lives in core/ or sources/. Keeping the calls here makes the screens testable
and the layering visible in one file.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice.core import checks as _checks
from sluice.core import content_index as _content_index
from sluice.core import doctor as _doctor
from sluice.core import echo as _echo
from sluice.core import invocation as _invocation
from sluice.core import protocol as _protocol
from sluice.core import sandbox as _sandbox
from sluice.core import secrets as _secrets
from sluice.core import workflows as _workflows
from sluice.core.checks import index_names as _index_names
from sluice.core.checks.cluster import detect_connector_api
from sluice.core.config import ConfigDocument, ConfigError, load_config, new_config_text
from sluice.core.config import elastic_compat as _elastic_compat
from sluice.core.es import build_client
from sluice.core.es import tls as _tls
from sluice.core.protocol import Connector, ConnectorStore, JobType, SyncJob, open_store
from sluice.core.protocol.open import backend_preference
from sluice.sources import registry as _registry
from sluice.sources import schema as _schema
from sluice.sources.errors import SourceError

# --------------------------------------------------------------------------- sources

SourceInfo = _registry.SourceInfo


def list_sources() -> list[SourceInfo]:
    """Every source type Sluice can run, sorted by display name."""
    return _registry.available_sources()


def default_configuration(service_type: str) -> dict[str, dict[str, Any]]:
    """The source's configuration schema with defaults, every attribute present."""
    return _registry.get_source_class(service_type).default_configuration()


def merge_configuration(
    service_type: str, stored: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The source's schema with the values of a connector record filled in."""
    schema = default_configuration(service_type)
    return _schema.merge_values(schema, stored or {})


def visible_fields(configuration: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return _schema.visible_fields(configuration)


def coerce_value(entry: Mapping[str, Any], raw: str) -> Any:
    """Typed value for text typed in a field; ValueError names the field."""
    return _schema.coerce_value(entry, raw)


def configuration_errors(
    service_type: str, configuration: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """`key -> message` for every local problem (schema rules plus the source's own)."""
    source_class = _registry.get_source_class(service_type)
    return source_class(configuration).validation_errors()


@dataclass(frozen=True)
class SourceTest:
    """Outcome of "Test connection": ok, one line, and the message under each field."""

    ok: bool
    message: str
    field_errors: dict[str, str] = field(default_factory=dict)


async def test_source(
    service_type: str, configuration: Mapping[str, Mapping[str, Any]]
) -> SourceTest:
    """Run the source's `validate_config()` then `ping()`; never raises."""
    source_class = _registry.get_source_class(service_type)
    try:
        source = source_class(configuration)
    except SourceError as exc:
        return SourceTest(False, str(exc), exc.field_errors)
    try:
        await source.validate_config()
        await source.ping()
    except SourceError as exc:
        return SourceTest(False, str(exc), exc.field_errors)
    except Exception as exc:  # a third-party source may raise anything
        return SourceTest(False, f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            await source.close()
    name = source_class.display_name or service_type
    return SourceTest(True, f"{name}: configuration valid and the source answers.")


def sample_data_directory() -> Path | None:
    """The repository's `sample-data/` folder, for a first try with the `dir` source."""
    from sluice.sources.directory.source import sample_data_directory as find

    return find()


# --------------------------------------------------------------------------- checks


def index_name_problems(name: str) -> list[str]:
    return _index_names.index_name_problems(name)


def index_name_advice(name: str) -> list[str]:
    return _index_names.index_name_advice(name)


def suggested_index_name(name: str) -> str:
    return _index_names.suggested_index_name(name)


def unused_index_name(name: str, taken: Collection[str]) -> str:
    """A valid name close to `name` that no connector or index in `taken` uses."""
    return _index_names.unused_index_name(name, taken)


def sluice_command() -> str:
    """What the user types to run Sluice here (`sluice`, or `.venv/bin/sluice` when the
    installation is not on PATH), for hints that must work when pasted."""
    return _invocation.sluice_command()


def ellipsize(text: object, limit: int = _echo.ECHO_LIMIT) -> str:
    """A user's input cut short for a message (long inputs end in '…')."""
    return _echo.ellipsize(text, limit)


def planned_checks(settings: Mapping[str, Any] | None, **kwargs: Any) -> list[tuple[str, str]]:
    """`(id, title)` of the cluster checks `run_checks` will report, in order."""
    return _checks.planned_checks(settings, **kwargs)


async def run_checks(settings: Mapping[str, Any], **kwargs: Any) -> AsyncIterator[Any]:
    """Stream `CheckResult`s for the Elasticsearch connection, as each finishes."""
    async for result in _checks.run_checks(settings, **kwargs):
        yield result


def environment_checks(config_path: str | Path) -> list[tuple[str, str]]:
    """`(id, title)` of the environment doctor's checks."""
    return _doctor.planned_environment_checks(config_path)


async def run_environment_checks(config_path: str | Path) -> AsyncIterator[Any]:
    async for result in _doctor.run_environment_checks(config_path):
        yield result


CertInfo = _tls.CertInfo
CertificateError = _tls.CertificateError


async def certificate_chain(url: str) -> list[CertInfo]:
    """The certificates `url` presents, leaf first, not trusted (for the user to confirm)."""
    return await _tls.fetch_certificate_chain(url)


async def pin_certificate(url: str, fingerprint: str, dest: Path) -> Path:
    """Save the confirmed certificate as a CA file for `ca_certs`."""
    return await _tls.pin_certificate(url, fingerprint, dest)


def format_fingerprint(value: str) -> str:
    return _tls.format_fingerprint(value)


async def save_pinned_ca(url: str, fingerprint: str, folder: Path) -> Path:
    """Save the certificate with `fingerprint` in `folder` as a CA file Elastic's service
    reads (`ca_certs`)."""
    return await _tls.save_pinned_ca(url, fingerprint, folder)


# --------------------------------------------------------------------------- Elastic's service

Incompatibility = _elastic_compat.Incompatibility
CONNECTORS_API_FLAG = _elastic_compat.FLAG


async def connector_api_available(settings: Mapping[str, Any]) -> bool | None:
    """Whether the cluster has the Connector API (None: could not tell)."""
    return await detect_connector_api(settings)


def connectors_api_flag(connector_api: bool | None) -> bool | None:
    """`feature_use_connectors_api` for config.yml (None: leave it out)."""
    return _elastic_compat.flag_for_cluster(connector_api)


def elastic_incompatibilities(es_section: Mapping[str, Any]) -> list[Incompatibility]:
    """Settings Elastic's service would not read the way Sluice does."""
    return _elastic_compat.unreadable_settings(es_section)


# --------------------------------------------------------------------------- cluster


class Cluster:
    """One Elasticsearch connection and its connector store, for a screen's lifetime."""

    def __init__(self, settings: Mapping[str, Any], *, read_only: bool = False) -> None:
        self.settings = dict(settings)
        self.read_only = read_only
        self.client = build_client(self.settings, user_agent="sluice-tui")
        self._store: ConnectorStore | None = None

    async def store(self) -> ConnectorStore:
        """The connector store; read-only clusters never get the connector indices created
        (the monitor must not write)."""
        if self._store is None:
            if self.read_only:
                wanted = backend_preference(self.settings)
                if wanted != "index" and await _protocol.connector_api_available(self.client):
                    self._store = _protocol.ApiConnectorStore(self.client)
                else:
                    self._store = _protocol.IndexConnectorStore(self.client)
            else:
                self._store = await open_store(self.client, es_settings=self.settings)
        return self._store

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._store is not None:
                await self._store.close()
        with contextlib.suppress(Exception):
            await self.client.close()

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def backend(self) -> str:
        """ "api" (Connector API) or "index" (direct index access), once the store is open."""
        return self._store.backend if self._store is not None else ""

    # connectors ------------------------------------------------------------------------
    async def list_connectors(self) -> list[Connector]:
        return await (await self.store()).list_connectors()

    async def get_connector(self, connector_id: str) -> Connector | None:
        return await (await self.store()).get_connector(connector_id)

    async def create_connector(
        self, *, service_type: str, name: str, description: str | None
    ) -> Connector:
        """Create the record as Kibana does (no index yet: step 6 attaches it)."""
        source_class = _registry.get_source_class(service_type)
        return await _workflows.create_draft_connector(
            self.client,
            await self.store(),
            service_type=service_type,
            name=name,
            description=description or None,
            features=source_class.features(),
            configuration=source_class.default_configuration(),
        )

    async def rename_connector(self, connector_id: str, name: str, description: str) -> None:
        await (await self.store()).update_name(connector_id, name=name, description=description)

    async def save_configuration(
        self, connector_id: str, configuration: Mapping[str, Mapping[str, Any]]
    ) -> None:
        await (await self.store()).update_configuration(connector_id, schema=configuration)

    # jobs ------------------------------------------------------------------------------
    async def list_jobs(self, connector_id: str | None = None, size: int = 20) -> list[SyncJob]:
        return await (await self.store()).list_jobs(connector_id=connector_id, size=size)

    async def get_job(self, job_id: str) -> SyncJob | None:
        return await (await self.store()).get_job(job_id)

    async def create_job(self, connector_id: str, job_type: str = "full") -> str:
        return await (await self.store()).create_job(connector_id, JobType(job_type))

    async def request_cancel(self, job_id: str) -> None:
        await (await self.store()).request_cancel(job_id)

    async def resumable_job(self, connector_id: str) -> SyncJob | None:
        """The connector's suspended (or silent in_progress) job, to offer resuming it."""
        return await _protocol.resumable_job(await self.store(), connector_id)

    async def make_resumable(self, job_id: str) -> str:
        """Let a service claim the interrupted job (a silent in_progress one is suspended)."""
        store = await self.store()
        job = await store.get_job(job_id)
        if job is not None:
            await _protocol.make_resumable(store, job)
        return job_id

    async def discard_job(self, job_id: str) -> None:
        """Cancel an interrupted job the user chose not to resume."""
        store = await self.store()
        job = await store.get_job(job_id)
        if job is not None:
            await _protocol.discard_job(store, job)

    # indices ---------------------------------------------------------------------------
    async def list_indices(self) -> list[str]:
        """Names of the regular (non-dot) indices."""
        return await _content_index.list_content_indices(self.client)

    async def create_index(self, name: str, language: str | None) -> bool:
        """Create the content index; False when it already existed."""
        return await _content_index.create_content_index(self.client, name, language=language)

    async def index_checks(self, name: str) -> list[Any]:
        """The cluster checks about an index name/existing index (ok/warn/fail results)."""
        results = []
        async for result in _checks.run_checks(self.settings, index_name=name, client=self.client):
            if result.id in ("index_name", "index"):
                results.append(result)
        return results

    async def connect_index(
        self, request: IndexConnection, config_document: ConfigDocument | None
    ) -> ConnectedIndex:
        """The connect-index workflow (index, API key, secret, config.yml entry — or
        nothing): raises `InvalidConnectorInput` or `IndexNotConnected`."""
        return await _workflows.connect_index(
            self.client, await self.store(), request, config_document=config_document
        )


LANGUAGES = _content_index.LANGUAGES
ContentIndexError = _content_index.ContentIndexError
IndexConnection = _workflows.IndexConnection
ConnectedIndex = _workflows.ConnectedIndex
IndexNotConnected = _workflows.IndexNotConnected
InvalidConnectorInput = _workflows.InvalidConnectorInput


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ConfigPreview:
    """What writing config.yml would do: the new text, and the diff when it exists."""

    path: Path
    text: str
    diff: str
    exists: bool


def read_config(path: str | Path, *, resolve_secrets: bool = True) -> Any:
    """The loaded `Config`, or None when the file is absent. Raises `ConfigError`."""
    if not Path(path).exists():
        return None
    return load_config(path, resolve_secrets=resolve_secrets)


def config_document(
    path: str | Path,
    es_settings: Mapping[str, Any],
    connector: Mapping[str, Any] | None,
) -> ConfigDocument:
    """config.yml as it would be written: the existing file edited in place (comments kept)
    or a fresh commented one."""
    target = Path(path)
    if target.exists():
        document = ConfigDocument.open(target)
        for key, value in es_settings.items():
            if value is None:
                document.unset(f"elasticsearch.{key}")
            else:
                document.set(f"elasticsearch.{key}", value)
        if connector:
            document.upsert_connector(
                connector["connector_id"], connector["service_type"], connector.get("api_key")
            )
        return document
    entries = [dict(connector)] if connector else []
    settings = {k: v for k, v in es_settings.items() if v is not None}
    text = new_config_text(settings, entries)
    return ConfigDocument(text, target)


def preview_config(document: ConfigDocument) -> ConfigPreview:
    exists = bool(document.path and document.path.exists())
    return ConfigPreview(
        path=document.path or Path("config.yml"),
        text=_secrets_masked(document.render()),
        diff=document.diff() if exists else "",
        exists=exists,
    )


def _secrets_masked(text: str) -> str:
    from sluice.core.config.redaction import mask_secret_lines

    return mask_secret_lines(text)


def save_config(document: ConfigDocument) -> Path:
    """Write atomically (comments preserved, `.bak` kept). Raises `ConfigError`."""
    return document.save()


# --------------------------------------------------------------------------- secrets

SecretPlacement = _secrets.SecretPlacement
SecretError = _secrets.SecretError


def keyring_status() -> _secrets.KeyringStatus:
    return _secrets.keyring_status()


def place_secret(placement: SecretPlacement, name: str, value: str) -> str:
    """What config.yml should hold for a secret: a keyring reference (stored now), an
    `${ENV}` reference, or the value itself (FILE). Raises `SecretError`."""
    if placement is SecretPlacement.KEYRING:
        return _secrets.store_secret(name, value)
    if placement is SecretPlacement.ENV:
        return _secrets.env_reference(name)
    return value


def secret_reference_preview(placement: SecretPlacement, name: str, value: str) -> str:
    """What `place_secret` would put in config.yml, without storing anything yet."""
    if placement is SecretPlacement.KEYRING:
        return _secrets.make_reference(name)
    if placement is SecretPlacement.ENV:
        return _secrets.env_reference(name)
    return value


def env_var_name(name: str) -> str:
    return _secrets.env_var_name(name)


def mask(secret: str | None) -> str:
    return _secrets.mask(secret)


# --------------------------------------------------------------------------- sandbox

SANDBOX_WARNING = _sandbox.SANDBOX_WARNING
Sandbox = _sandbox.Sandbox
SandboxError = _sandbox.SandboxError


def sandbox_available() -> bool:
    return _sandbox.sandbox_available()


def sandbox_home(config_path: Path) -> Path:
    return _sandbox.sandbox_home(config_path)


def start_sandbox(data_dir: Path, port: int | None = None) -> Sandbox:
    """Blocking (a few hundred ms): call from a thread worker. Reuses the sandbox already
    running for this folder; if its port is held by another program, takes a free one (saved,
    so later runs keep it). The sandbox dies with the app unless `sluice sandbox start` runs it."""
    return _sandbox.start_sandbox(data_dir, port=port, any_port_if_taken=True)


def stop_sandbox(sandbox: Sandbox) -> None:
    """Stop it, whoever started it (the user asked)."""
    _sandbox.stop_sandbox(sandbox)


def release_sandbox(sandbox: Sandbox) -> None:
    """The app is exiting: stop the sandbox it owns, leave one kept running alone."""
    _sandbox.release_sandbox(sandbox)


__all__ = [
    "ConfigError",
    "ConfigPreview",
    "SourceTest",
]


# --------------------------------------------------------------------------- sync


def job_failures(job_id: str, limit: int = 200) -> list[tuple[str, str, str, str, str]]:
    """(time, document id, operation, reason, name) from a job's failure log, oldest first."""
    rows = []
    for entry in _workflows.job_failures(job_id, limit=limit) or []:
        if "id" in entry:
            rows.append(
                (
                    str(entry.get("time", "")),
                    str(entry["id"]),
                    str(entry.get("operation", "")),
                    str(entry.get("reason", "")),
                    str(entry.get("name") or ""),
                )
            )
        elif "note" in entry:
            rows.append(("", "…", "", str(entry["note"]), ""))
    return rows


def job_notices(job: SyncJob) -> list[str]:
    """What the job's record tells the user although the sync went on."""
    from sluice.core.engine.runner import job_notices as notices_of

    return notices_of(job.metadata)


def export_job_failures(job_id: str, destination: Path) -> int | None:
    """Export a job's failure log (CSV or NDJSON by suffix); None when there is none here."""
    return _workflows.export_job_failures(job_id, destination)


def engine_available() -> bool:
    """True once the sync engine's job runner is installed (it lands separately)."""
    import importlib.util

    try:
        return importlib.util.find_spec("sluice.core.engine.runner") is not None
    except ModuleNotFoundError:
        return False


class LocalSync:
    """One sync of a connector run here: the engine on its own event loop (call `run()` in a
    thread), a progress board to poll, and cancel/suspend events the engine watches."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        connector_id: str,
        job_type: str = "full",
        *,
        resume_job_id: str | None = None,
        config_path: str | Path | None = None,
    ):
        import threading

        from sluice.core.engine.progress import ProgressBoard

        self.settings = dict(settings)
        self.connector_id = connector_id
        self.job_type = job_type
        #: Continue this suspended job instead of starting a new one.
        self.resume_job_id = resume_job_id
        #: config.yml whose `elasticsearch.bulk` settings (sizes, retries) the engine uses,
        #: as `sluice run` and `sluice sync` do.
        self.config_path = config_path
        self.board = ProgressBoard()
        self.cancel_event = threading.Event()
        self.suspend_event = threading.Event()
        self.job_id: str | None = None
        self.error: str | None = None
        self.status: str = "starting"
        self.done = False  # the job record is written too, not just the engine finished

    def run(self) -> None:
        """Blocking: run the whole job (record it, sync, finish it). Never raises."""
        import asyncio

        try:
            asyncio.run(self._main())
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "error"
        finally:
            self.done = True

    async def _main(self) -> None:
        import functools

        from sluice.core.engine import runner  # the job runner of the sync engine
        from sluice.sources.registry import create_source

        config = self._config()
        result = await runner.run_connector_sync(
            self.settings,
            self.connector_id,
            # config.yml's `sources:` classes and `bulk` settings, as `sluice sync` uses them
            source_factory=functools.partial(
                create_source, extra=config.custom_sources if config is not None else {}
            ),
            job_type=self.job_type,
            listener=self.board,
            cancel_event=self.cancel_event,
            suspend_event=self.suspend_event,
            on_job=self._on_job,
            resume_job_id=self.resume_job_id,
            settings=self._engine_settings(config),
        )
        self.status = str(getattr(result, "status", "completed"))
        self.error = getattr(result, "error", None)
        # The job record holds the outcome now: show it without waiting for the loop's
        # shutdown (worker threads of a busy walk finish on their own).
        self.done = True

    def _on_job(self, job_id: str) -> None:
        self.job_id = job_id

    def _config(self) -> Any:
        """config.yml as `sluice sync` reads it, or None (no file, or a broken one: the
        wizard's checks report it, and the sync runs with the defaults)."""
        if not self.config_path:
            return None
        try:
            return read_config(self.config_path, resolve_secrets=False)
        except ConfigError:
            return None

    def _engine_settings(self, config: Any = None) -> Any:
        from sluice.core.engine.settings import EngineSettings

        return EngineSettings.from_config(config if config is not None else self._config())

    def cancel(self) -> None:
        self.cancel_event.set()

    def suspend(self) -> None:
        self.suspend_event.set()
        self.cancel_event.set()

    def state(self) -> Any:
        from sluice.tui.feeds import FeedState

        snapshot = self.board.snapshot
        # The outcome shows once the job record holds it too: quitting at "canceled" must
        # never leave the record `in_progress`.
        finished = self.board.finished if self.done else None
        status = self.status  # the runner's final word once done
        if not self.done and self.board.finished is not None:
            status = "finishing"  # writing the job record
        elif self.error is None and status == "starting" and snapshot is not None:
            status = "running"
        if self.cancel_event.is_set() and finished is None and self.error is None:
            status = "suspending" if self.suspend_event.is_set() else "canceling"
        if snapshot is None:
            return FeedState(status=status, last_error=self.error, job_id=self.job_id)
        counters = snapshot.counters
        return FeedState(
            status=status,
            phase=str(snapshot.phase),
            extracted=counters.extracted,
            indexed=counters.indexed,
            updated=counters.updated,
            deleted=counters.deleted,
            skipped=counters.skipped,
            failed=counters.failed,
            bytes=counters.bytes,
            docs_per_second=snapshot.docs_per_second,
            total=snapshot.total,
            eta_seconds=snapshot.eta_seconds,
            elapsed=snapshot.elapsed,
            last_error=(finished.error if finished else None) or snapshot.last_error or self.error,
            job_id=self.job_id,
            deleting=snapshot.deleting,
            stale_done=snapshot.stale_done,
            stale_total=snapshot.stale_total,
            stalled=snapshot.stalled.message() if snapshot.stalled and not finished else None,
            rate_is_average=snapshot.status is not None,
            notices=snapshot.notices,
        )

    def failures(self, limit: int = 200) -> list[tuple[str, str, str, str, str]]:
        import time as _time

        rows = [
            (
                _time.strftime("%H:%M:%S", _time.localtime(f.at)),
                f.doc_id,
                f.operation,
                f.reason,
                f.name or "",
            )
            for f in self.board.failures()
        ]
        return rows[-limit:]
