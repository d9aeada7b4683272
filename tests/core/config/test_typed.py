"""The typed config: one set of defaults (Elastic's) read by every consumer, and every
documented key either honoured or warned about as unused."""

from __future__ import annotations

import dataclasses

from sluice.core.config import DEFAULTS, config_from_text, known_paths
from sluice.core.config.typed import BulkSettings, ErrorMonitorSettings, ServiceSettings, Settings
from sluice.core.config.unused import UNUSED_BY_SLUICE
from sluice.core.engine.settings import MIB, EngineSettings
from sluice.core.service import ServiceOptions

#: Keys the Elasticsearch client and the protocol layer read from `elasticsearch`
#: (core/es/client.py, core/es/tls.py, core/protocol), not through `core.config.typed`.
CLIENT_KEYS = {
    "host",
    "api_key",
    "username",
    "password",
    "verify_certs",
    "ca_certs",
    "ca_fingerprint",
    "bearer_auth",
    "request_timeout",
    "retry_on_timeout",
    "max_retries",
    "retry_interval",
    "max_wait_duration",
    "initial_backoff_duration",
    "backoff_multiplier",
    "feature_use_connectors_api",
}
#: Read by the config model itself (`Config.connectors`, `Config.sources`).
MODEL_KEYS = {
    "connectors",
    "connectors[].connector_id",
    "connectors[].service_type",
    "connectors[].api_key",
    "sources",
    "connector_id",
    "service_type",
    "native_service_types",  # deprecated: warned about by the schema already
}


def _typed_keys() -> set[str]:
    keys = {f"elasticsearch.bulk.{f.name}" for f in dataclasses.fields(BulkSettings)}
    keys |= {
        f"elasticsearch.bulk.error_monitor.{f.name}"
        for f in dataclasses.fields(ErrorMonitorSettings)
    }
    keys |= {f"service.{f.name}" for f in dataclasses.fields(ServiceSettings)}
    return keys


def test_every_documented_key_is_honoured_or_listed_as_unused():
    honoured = _typed_keys() | {f"elasticsearch.{k}" for k in CLIENT_KEYS} | MODEL_KEYS
    honoured |= {"elasticsearch", "elasticsearch.bulk", "service"}  # sections
    unused = set(UNUSED_BY_SLUICE)
    known = set(known_paths())
    leaves = {k for k in known if not any(k.startswith(u + ".") for u in unused)}
    assert unused <= known, unused - known
    assert not (honoured & unused), honoured & unused
    assert leaves - honoured - unused == set()


def test_defaults_live_in_one_place_and_every_consumer_gets_them():
    empty = config_from_text("", environ={})
    bulk = DEFAULTS["elasticsearch"]["bulk"]
    settings = empty.settings
    assert settings == Settings.defaults()
    assert settings.bulk.chunk_size == bulk["chunk_size"]
    monitor = {k: v for k, v in bulk["error_monitor"].items() if k != "error_queue_size"}
    assert dataclasses.asdict(settings.bulk.error_monitor) == monitor
    assert settings.service.idling == DEFAULTS["service"]["idling"]
    assert settings.bulk.request_timeout == 60  # Sluice only
    assert EngineSettings.from_config(empty) == EngineSettings() == EngineSettings.from_config(None)
    assert ServiceOptions.from_settings(settings.service) == ServiceOptions()


def test_the_config_reaches_the_engine_and_the_service():
    config = config_from_text(
        "elasticsearch.bulk:\n"
        "  chunk_size: 77\n"
        "  queue_max_mem_size: 2\n"
        "  max_retries: 2\n"
        "  retry_interval: 0.5\n"
        "  error_monitor: {enabled: false, max_total_errors: 7, max_consecutive_errors: 3,"
        " max_error_rate: 0.5, error_window_size: 40}\n"
        "service: {idling: 5, heartbeat: 60, log_level: DEBUG}\n"
        "sources: {custom: 'my_pkg.sources:Custom'}\n",
        environ={},
    )
    engine = EngineSettings.from_config(config)
    assert (engine.chunk_size, engine.queue_max_mem_size) == (77, 2 * MIB)
    assert (engine.bulk_max_retries, engine.bulk_retry_interval) == (2, 0.5)
    assert engine.error_monitor_enabled is False
    assert (engine.max_total_errors, engine.max_consecutive_errors) == (7, 3)
    assert (engine.max_error_ratio, engine.error_window) == (0.5, 40)
    options = ServiceOptions.from_settings(config.settings.service)
    assert (options.idling, options.heartbeat) == (5.0, 60.0)
    assert config.settings.service.log_level == "DEBUG"
    assert (
        config.custom_sources
        == config.settings.custom_sources
        == {"custom": "my_pkg.sources:Custom"}
    )


def test_a_key_sluice_ignores_is_warned_about_naming_it():
    text = (
        "elasticsearch:\n"
        "  host: http://127.0.0.1:9200\n"
        "  bulk:\n"
        "    display_every: 10\n"
        "    error_monitor: {error_queue_size: 50, max_total_errors: 5}\n"
        "service.max_errors: 50\n"
        "extraction_service: {host: 'http://127.0.0.1:8090'}\n"
    )
    config = config_from_text(text, label="config.yml", environ={})
    shown = [str(p) for p in config.warnings]
    assert shown == [
        "config.yml:4:5: warning: elasticsearch.bulk.display_every: is not used by Sluice "
        "(progress is shown live and in the job record) — remove it, or keep it for "
        "Elastic's service, which reads it",
        "config.yml:5:21: warning: elasticsearch.bulk.error_monitor.error_queue_size: is not "
        "used by Sluice (the failure log keeps every error, not the last few) — remove it, or "
        "keep it for Elastic's service, which reads it",
        "config.yml:6:1: warning: service.max_errors: is not used by Sluice (`sluice run` "
        "retries every service.idling seconds without a limit) — remove it, or keep it for "
        "Elastic's service, which reads it",
        "config.yml:7:1: warning: extraction_service: is not used by Sluice (Sluice extracts "
        "text itself, in process) — remove it, or keep it for Elastic's service, which reads it",
    ]


def test_an_unused_key_at_elastics_default_stays_quiet(elastic_example):
    """Elastic's config.yml.example writes every key with its default: nothing to warn."""
    config = config_from_text(elastic_example.read_text(), environ={})
    assert [p.key for p in config.warnings if "not used by Sluice" in p.message] == []
    quiet = config_from_text(
        "elasticsearch.ssl: true\nservice: {max_errors: 20, fips_mode: false}\n", environ={}
    )
    assert quiet.warnings == []
