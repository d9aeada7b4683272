"""The Deploy view's and `sluice deploy`'s one workflow: read config.yml and the cluster's
version, and build every way to run the service for it (`core.deployment` holds the text)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.core.deployment import (
    TARGETS,
    DeployFacts,
    DeployPlan,
    plan,
    referenced_variables,
    secret_references,
)
from sluice.core.invocation import installed_script

#: Sluice's file of `${VAR}` values (written by the wizard next to config.yml).
ENV_FILE = Path(".sluice") / "sluice.env"


@dataclass(frozen=True)
class Deployment:
    """Every plan for one config.yml, and which service runs the connector's type."""

    facts: DeployFacts
    plans: dict[str, DeployPlan]
    runner: str  # "sluice" when Sluice runs the type, else "elastic"

    def targets_for(self, runner: str) -> list[str]:
        return [target for target, who in TARGETS.items() if who == runner]

    @property
    def default_target(self) -> str:
        return "sluice" if self.runner == "sluice" else "docker"


def absolute_sluice_command() -> str:
    """Sluice's command as an absolute path (a unit file or cron has no working folder)."""
    import shlex
    import sys

    script = installed_script()
    if script is not None:
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m sluice"


def deploy_facts(
    config_path: str | os.PathLike[str],
    *,
    cluster_version: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> DeployFacts:
    """Facts of config.yml as written (secrets not resolved). Raises `ConfigError`."""
    from sluice.core.config import load_config

    path = Path(config_path).expanduser().absolute()
    config = load_config(path, environ=environ or {}, resolve_secrets=False)
    settings: Mapping[str, Any] = config.elasticsearch
    text = path.read_text(encoding="utf-8")
    ca = settings.get("ca_certs")
    ca_certs = tuple(str(c) for c in (ca if isinstance(ca, list) else [ca]) if c)
    env_file = path.parent / ENV_FILE
    return DeployFacts(
        config_path=path,
        es_host=str(settings.get("host") or ""),
        cluster_version=cluster_version,
        ca_certs=ca_certs,
        variables=referenced_variables(text),
        keyring_keys=tuple(secret_references(config.data)),
        env_file=env_file if env_file.exists() else None,
        sluice_command=absolute_sluice_command(),
    )


def build_deployment(
    config_path: str | os.PathLike[str],
    service_type: str | None,
    *,
    cluster_version: str | None = None,
    runs_in_sluice: bool,
    environ: Mapping[str, str] | None = None,
) -> Deployment:
    """Every plan for config.yml; `runs_in_sluice` says whether Sluice's engine has the type."""
    facts = deploy_facts(config_path, cluster_version=cluster_version, environ=environ)
    plans = {target: plan(target, facts) for target in TARGETS}
    runner = "sluice" if runs_in_sluice else "elastic"
    if not runs_in_sluice:
        # Sluice can't run this type: offering its service would only mislead
        plans = {t: p for t, p in plans.items() if p.runner == "elastic"}
    del service_type  # the type only decides the runner, above
    return Deployment(facts, plans, runner)


def write_unit(deployment: Deployment, destination: str | os.PathLike[str]) -> Path:
    """Write the systemd unit (0644: it holds no secret; secrets stay in the env file)."""
    from sluice.core.config.atomic import atomic_write

    unit = deployment.plans.get("systemd")
    if unit is None or unit.unit_text is None:
        raise ValueError("this connector's type is not run by Sluice: no systemd unit for it")
    target = Path(destination).expanduser()
    if target.is_dir():
        target = target / (unit.unit_name or "sluice.service")
    text = unit.unit_text

    def write(stream: Any) -> None:
        stream.write(text)

    atomic_write(target, write, mode=0o644)
    return target


async def cluster_version(client: Any) -> str | None:
    """The cluster's version number ("8.15.3"), or None when it can't be asked."""
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    try:
        info = await client.info()
    except (ApiError, TransportError):
        return None
    number = (info.get("version") or {}).get("number")
    return str(number) if number else None


async def deployment_for(
    client: Any,
    store: Any,
    config_path: str | os.PathLike[str],
    connector_id: str,
    *,
    runs_type: Callable[[str], bool],
    environ: Mapping[str, str] | None = None,
) -> tuple[Any, Deployment]:
    """(record, deployment) for one connector of the cluster. `runs_type` says whether
    Sluice's engine has a source for a type (`sources.registry.runs_in_sluice`). Raises
    ConnectorNotFound."""
    from sluice.core.protocol.errors import ConnectorNotFound

    connector = await store.get_connector(connector_id)
    if connector is None or connector.deleted:
        raise ConnectorNotFound(connector_id)
    service_type = str(connector.service_type or "")
    deployment = build_deployment(
        config_path,
        service_type,
        cluster_version=await cluster_version(client),
        runs_in_sluice=runs_type(service_type),
        environ=environ,
    )
    return connector, deployment
