"""Why has no service checked in for this connector? The causes in the order they bite, each
checked where it can be from here, with its fix.

"The connector never checks in" is the most reported problem of Elastic's connectors. The
usual causes: no service running; a config.yml that doesn't name this connector (or names
another type); a cluster the service can't reach (`localhost` inside a container); a
credential it can't use (a keyring secret, an unset `${VAR}`, a rejected key, a missing
privilege); a service release the cluster refuses. The last item says where its log is and
what to look for there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.core.checks.result import CheckResult, Status
from sluice.core.deployment import (
    TARGETS,
    is_loopback_host,
    referenced_variables,
    secret_references,
    service_version,
    versions_compatible,
)
from sluice.core.protocol import Connector
from sluice.core.protocol.checkin import STALE_AFTER, read_checkin

Checks = Callable[..., Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class SilenceInputs:
    """What the doctor knows: the file the user deployed, the record, how it was deployed."""

    config_path: Path
    connector: Connector | None
    connector_id: str
    target: str | None = None  # a key of deployment.TARGETS, when the user chose one
    service_version: str | None = None  # the service release deployed, when known
    environ: Mapping[str, str] = field(default_factory=dict)
    #: service types the chosen runner can run (None: don't judge)
    runnable_types: frozenset[str] | None = None


def _result(check_id: str, title: str, status: Status, message: str, hint: str = "") -> CheckResult:
    return CheckResult(check_id, title, status, message, hint or None, 0.0, None)


def _runner(inputs: SilenceInputs) -> str:
    return TARGETS.get(inputs.target or "", "elastic")


def _log_hint(inputs: SilenceInputs) -> str:
    where = {
        "docker": "`docker logs -f elastic-connectors` (or the terminal running it)",
        "source": "the terminal running `make run`",
        "sluice": "the terminal running `sluice run`",
        "systemd": "`journalctl --user -u <unit> -f`",
    }.get(inputs.target or "", "the terminal or container running the service")
    return (
        f"read {where}; look for 'unreachable', 'incompatible', '401'/'403', 'You must "
        f"configure at least one connector' and lines naming {inputs.connector_id}"
    )


def heartbeat(inputs: SilenceInputs, now: datetime) -> CheckResult:
    title = "Service heartbeat"
    reading = read_checkin(inputs.connector, now)
    if inputs.connector is None or inputs.connector.deleted:
        return _result(
            "heartbeat",
            title,
            "fail",
            f"connector {inputs.connector_id} is not in this cluster (deleted, or another cluster)",
            "create it again (step 3), or point config.yml at the cluster that holds it",
        )
    if reading.last_seen is None:
        return _result(
            "heartbeat",
            title,
            "warn",
            "no service has checked in for this connector yet",
            f"start the service: `sluice deploy {inputs.connector_id}` (or the Deploy view) "
            "prints the commands",
        )
    if now - reading.last_seen > STALE_AFTER:
        return _result(
            "heartbeat",
            title,
            "warn",
            f"last check-in {reading.last_seen_words(now)}: the service that ran it stopped",
            "start it again; " + _log_hint(inputs),
        )
    return _result("heartbeat", title, "ok", f"checked in {reading.last_seen_words(now)}")


def config_entry(inputs: SilenceInputs) -> tuple[CheckResult, Any]:
    """Does the deployed config.yml name this connector with the record's type?"""
    from sluice.core.config import ConfigError, load_config

    title = "config.yml names this connector"
    path = inputs.config_path
    if not path.exists():
        return _result(
            "config",
            title,
            "fail",
            f"{path} does not exist",
            "write it (step 4, or `sluice connector create`) and deploy that file",
        ), None
    try:
        config = load_config(path, environ=inputs.environ, resolve_secrets=False)
    except ConfigError as exc:
        found = exc.errors or exc.problems
        first = str(found[0]) if found else str(exc)
        return _result(
            "config",
            title,
            "fail",
            f"the service can't read {path.name}: {first}",
            "fix the line it names; Elastic's service stops at start on the same error",
        ), None
    entries = config.connectors
    record_type = inputs.connector.service_type if inputs.connector is not None else None
    if not entries:
        return _result(
            "config",
            title,
            "fail",
            f"{path.name} lists no connector: Elastic's service refuses to start",
            f"add `- connector_id: {inputs.connector_id}` with `service_type: "
            f"{record_type or '…'}` under `connectors:` (step 4 writes it)",
        ), config
    entry = config.connector(inputs.connector_id)
    if entry is None:
        listed = ", ".join(e["connector_id"] for e in entries[:3])
        return _result(
            "config",
            title,
            "fail",
            f"{path.name} lists {listed} but not {inputs.connector_id}: the service never "
            "looks at this connector",
            f"add `- connector_id: {inputs.connector_id}` under `connectors:` and restart the "
            "service (it reads config.yml at start only)",
        ), config
    entry_type = entry.get("service_type")
    if record_type and entry_type and str(entry_type) != str(record_type):
        return _result(
            "config",
            title,
            "fail",
            f"{path.name} says service_type {entry_type!r} for this connector, the record "
            f"says {record_type!r}",
            f"set `service_type: {record_type}` in config.yml and restart the service",
        ), config
    if str(entry.get("api_key") or "") == "changeme" or any(
        str(e.get("connector_id")) == "changeme" for e in entries
    ):
        return _result(
            "config",
            title,
            "fail",
            f"{path.name} still holds the `changeme` placeholder: the service refuses to start",
            "replace it with the real connector id / API key",
        ), config
    return _result(
        "config", title, "ok", f"{path.name} names {inputs.connector_id} ({entry_type})"
    ), config


def source_type(inputs: SilenceInputs) -> CheckResult:
    title = "Service type"
    record_type = inputs.connector.service_type if inputs.connector is not None else None
    if not record_type:
        return _result("service_type", title, "skip", "no record to read the type from")
    if inputs.runnable_types is not None and str(record_type) not in inputs.runnable_types:
        runner = "Elastic's connector service" if _runner(inputs) == "elastic" else "Sluice"
        return _result(
            "service_type",
            title,
            "fail",
            f"{runner} has no {record_type!r} source: it never takes this connector",
            "run it with the other service (Deploy view), or recreate the connector with a "
            "type this one runs",
        )
    return _result("service_type", title, "ok", f"{record_type!r} is a type this service runs")


def reach(inputs: SilenceInputs, config: Any, results: Mapping[str, CheckResult]) -> CheckResult:
    title = "Elasticsearch from the service"
    if config is None:
        return _result("reach", title, "skip", "config.yml could not be read")
    host = str(config.elasticsearch.get("host") or "")
    connection = results.get("connection")
    tls = results.get("tls")
    for check in (connection, tls):
        if check is not None and check.status == "fail":
            return _result(
                "reach",
                title,
                "fail",
                f"{host} from this machine: {check.message}",
                check.hint or "",
            )
    if inputs.target == "docker" and is_loopback_host(host):
        return _result(
            "reach",
            title,
            "warn",
            f"elasticsearch.host is {host}: inside a container that is the container itself",
            "run the container with --network host (Linux), or write host.docker.internal "
            "for localhost in config.yml (Docker Desktop)",
        )
    if connection is None:
        return _result("reach", title, "skip", "not checked")
    return _result("reach", title, "ok", f"{host} answers from this machine")


def credentials(
    inputs: SilenceInputs, config: Any, raw_text: str, results: Mapping[str, CheckResult]
) -> CheckResult:
    title = "The service's credentials"
    if config is None:
        return _result("credentials", title, "skip", "config.yml could not be read")
    keyring_keys = secret_references(config.data)
    if keyring_keys and _runner(inputs) == "elastic":
        return _result(
            "credentials",
            title,
            "fail",
            f"{', '.join(keyring_keys)} is kept in the OS keyring, which Elastic's service "
            "cannot read: it sends the reference text as the key",
            "keep the secret in an environment variable (step 4, 'environment variable') and "
            "pass it to the service",
        )
    unset = [name for name in referenced_variables(raw_text) if name not in inputs.environ]
    for check_id in ("authentication", "privileges"):
        check = results.get(check_id)
        if check is not None and check.status == "fail" and not unset:
            return _result(
                "credentials", title, "fail", f"{check.title}: {check.message}", check.hint or ""
            )
    if unset:
        return _result(
            "credentials",
            title,
            "warn",
            f"config.yml reads {', '.join(unset)} from the environment, unset here: the key "
            "can't be checked from here",
            "make sure the service's environment has it (`-e NAME` for Docker, export for "
            "`make run`); without it Elastic's service refuses to start",
        )
    auth = results.get("authentication")
    if auth is not None and auth.status == "skip":
        return _result("credentials", title, "skip", auth.message)
    return _result("credentials", title, "ok", "the cluster accepts config.yml's credentials")


def version(inputs: SilenceInputs, cluster_version: str | None) -> CheckResult:
    title = "Service version"
    if _runner(inputs) == "sluice":
        return _result("version", title, "skip", "Sluice's service works with any 8.x/9.x")
    matched = service_version(cluster_version)
    if cluster_version is None or matched is None:
        return _result("version", title, "skip", "the cluster's version is unknown from here")
    if inputs.service_version:
        problem = versions_compatible(cluster_version, inputs.service_version)
        if problem is not None:
            return _result(
                "version",
                title,
                "fail",
                problem,
                f"deploy release {matched[0]} (Docker tag {matched[0]}, branch {matched[1]})",
            )
        return _result(
            "version",
            title,
            "ok",
            f"service {inputs.service_version} works with Elasticsearch {cluster_version}",
        )
    return _result(
        "version",
        title,
        "warn",
        f"the release you deployed is unknown here: for Elasticsearch {cluster_version} it "
        f"must be {matched[0].split('.')[0]}.x, no newer than {matched[1]}",
        f"use tag {matched[0]} (Deploy view); its log says 'Elasticsearch … and Connectors … "
        "are incompatible' when not",
    )


def log_advice(inputs: SilenceInputs) -> CheckResult:
    return _result("log", "The service's log", "skip", "where to look next", _log_hint(inputs))


def _cluster_version(results: Mapping[str, CheckResult]) -> str | None:
    product = results.get("product")
    if product is None or product.status == "fail":
        return None
    for word in product.message.replace(",", " ").split():
        word = word.rstrip(":;.")
        if service_version(word) is not None:
            return word
    return None


async def diagnose_silence(
    inputs: SilenceInputs, *, checks: Checks | None = None, now: datetime | None = None
) -> list[CheckResult]:
    """The symptom (the heartbeat: a warning when silent), then every likely cause in
    order, checked: the first `fail` is the one to fix first; with none, the service is most
    likely just not running."""
    from sluice.core.config import ConfigError, load_config

    now = now or datetime.now(UTC)
    if checks is None:
        from sluice.core.checks.runner import collect_checks

        checks = collect_checks
    items = [heartbeat(inputs, now)]
    entry, config = config_entry(inputs)
    items.append(entry)
    items.append(source_type(inputs))
    results: dict[str, CheckResult] = {}
    raw_text = ""
    if config is not None:
        try:
            raw_text = inputs.config_path.read_text(encoding="utf-8")
        except OSError:
            raw_text = ""
        resolvable = not (secret_references(config.data) and _runner(inputs) == "elastic")
        settings = dict(config.elasticsearch)
        if resolvable:
            try:
                settings = dict(
                    load_config(inputs.config_path, environ=inputs.environ).elasticsearch
                )
            except ConfigError:
                pass  # unset variables: reported by `credentials`
        index_name = inputs.connector.index_name if inputs.connector is not None else None
        for result in await checks(settings, index_name=index_name or None):
            results[result.id] = result
    items.append(reach(inputs, config, results))
    items.append(credentials(inputs, config, raw_text, results))
    items.append(version(inputs, _cluster_version(results)))
    items.append(log_advice(inputs))
    return items
