"""How to run the service for a config.yml: the exact commands for Elastic's connector service
(Docker image or source checkout, at the cluster's version) and for Sluice's own (`sluice
run`, or a systemd unit). Pure text from facts about the file; nothing is run here.

The traps built in are the ones users hit most: `localhost` inside a container is the
container itself, a service image newer than the cluster refuses to start, a secret kept in
the OS keyring is invisible to Elastic's service, and `${VAR}` secrets must reach it.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sluice.core.secrets import parse_reference

ELASTIC_IMAGE = "docker.elastic.co/integrations/elastic-connectors"
ELASTIC_REPOSITORY = "https://github.com/elastic/connectors.git"
CONTAINER_CONFIG_DIR = "/config"
#: The Docker host as seen from a container on Docker Desktop (macOS, Windows).
DOCKER_DESKTOP_HOST = "host.docker.internal"

#: Where each target's service comes from: Elastic's connector service or Sluice's own.
TARGETS: dict[str, str] = {
    "docker": "elastic",
    "source": "elastic",
    "sluice": "sluice",
    "systemd": "sluice",
}
TARGET_TITLES: dict[str, str] = {
    "docker": "Elastic's service with Docker",
    "source": "Elastic's service from source",
    "sluice": "Sluice's service",
    "systemd": "Sluice's service under systemd",
}

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class DeployFacts:
    """What the commands depend on, read from config.yml and the cluster."""

    config_path: Path  # absolute
    es_host: str
    cluster_version: str | None = None  # "8.15.3"; None when the cluster wasn't asked
    ca_certs: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # `${VAR}` names the file references
    keyring_keys: tuple[str, ...] = ()  # dotted keys whose value is a `keyring:` reference
    env_file: Path | None = None  # Sluice's file of `${VAR}` values, when there is one
    sluice_command: str = "sluice"  # how to call Sluice here (absolute for systemd)


@dataclass(frozen=True)
class DeployPlan:
    """One way to run the service: commands to copy, what to know first, maybe a file."""

    target: str
    title: str
    runner: str  # "elastic" | "sluice"
    commands: tuple[str, ...]
    notes: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # must be fixed first, or the service can't work
    unit_name: str | None = None
    unit_text: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def script(self) -> str:
        """The commands as one copyable block."""
        return "\n".join(self.commands)


def service_version(cluster_version: str | None) -> tuple[str, str] | None:
    """(image tag, source branch) of Elastic's service matching a cluster version:
    8.15.3 -> ("8.15.3", "8.15"). The service refuses a cluster whose major differs or whose
    minor is older than its own, so the tag is the cluster's own version."""
    match = _VERSION.match(cluster_version or "")
    if match is None:
        return None
    major, minor, patch = match.groups()
    return f"{major}.{minor}.{patch}", f"{major}.{minor}"


def versions_compatible(cluster_version: str, service: str) -> str | None:
    """Why Elastic's service at version `service` refuses (or warns about) the cluster, as its
    preflight check decides; None when they match."""
    cluster = _VERSION.match(cluster_version)
    ours = _VERSION.match(service)
    if cluster is None or ours is None:
        return None
    c_major, c_minor, _ = (int(part) for part in cluster.groups())
    s_major, s_minor, _ = (int(part) for part in ours.groups())
    if c_major != s_major:
        return (
            f"Elastic's service {service} refuses Elasticsearch {cluster_version}: "
            "major versions differ"
        )
    if c_minor < s_minor:
        return (
            f"Elastic's service {service} refuses Elasticsearch {cluster_version}: "
            "the cluster's minor version is older"
        )
    return None


def is_loopback_host(es_host: str) -> bool:
    """True when `elasticsearch.host` names this machine itself (localhost, 127.x, ::1)."""
    name = urlsplit(es_host if "://" in es_host else f"http://{es_host}").hostname or ""
    if name in {"localhost", "localhost.localdomain"} or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secret_references(data: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Dotted keys of `data` whose value is a `keyring:` reference."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(secret_references(value, (*path, str(key))))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(secret_references(value, (*path, str(index))))
    elif isinstance(data, str) and parse_reference(data) is not None:
        found.append(".".join(path))
    return found


def referenced_variables(text: str) -> tuple[str, ...]:
    """Variables config.yml needs from the environment, in order, once each: exactly those
    the loader (and Elastic's service) substitutes without a default — `${VAR}` and `$VAR`,
    anywhere but a line starting with `#` in column 1."""
    from sluice.core.config.envsubst import substitute_text

    missing = substitute_text(text, {}, keep_unset=True)[1]
    return tuple(dict.fromkeys(item.name for item in missing))


# ---------------------------------------------------------------------------- plans


def plan(target: str, facts: DeployFacts) -> DeployPlan:
    """The commands for one target (see `TARGETS`)."""
    builders = {
        "docker": _docker,
        "source": _source,
        "sluice": _sluice,
        "systemd": _systemd,
    }
    if target not in builders:
        raise ValueError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
    return builders[target](facts)


def _keyring_blockers(facts: DeployFacts) -> tuple[str, ...]:
    if not facts.keyring_keys:
        return ()
    keys = ", ".join(facts.keyring_keys)
    return (
        f"config.yml keeps {keys} in the OS keyring, which Elastic's service cannot read: "
        "keep the secret in an environment variable instead (step 4 of the wizard, "
        "'environment variable'), then pass that variable to the service.",
    )


def _version_notes(facts: DeployFacts) -> tuple[tuple[str, str] | None, list[str]]:
    matched = service_version(facts.cluster_version)
    notes: list[str] = []
    if matched is None:
        notes.append(
            "The cluster's version is unknown here: use the service release equal to your "
            "Elasticsearch version (same major, minor not newer), or it refuses to start."
        )
    else:
        notes.append(
            f"Version {matched[0]} matches the cluster (Elasticsearch {facts.cluster_version}): "
            "a newer service minor or another major refuses to start."
        )
    return matched, notes


def _variable_notes(facts: DeployFacts) -> list[str]:
    if not facts.variables:
        return []
    names = ", ".join(facts.variables)
    return [
        f"config.yml reads {names} from the environment: export "
        f"{'it' if len(facts.variables) == 1 else 'them'} where the service starts "
        "(the secret's value, never written here)."
    ]


def _docker(facts: DeployFacts) -> DeployPlan:
    matched, notes = _version_notes(facts)
    tag = matched[0] if matched else "<your Elasticsearch version, e.g. 9.2.0>"
    image = f"{ELASTIC_IMAGE}:{tag}"
    folder = facts.config_path.parent
    run = ["docker run --name elastic-connectors --rm --tty"]
    if is_loopback_host(facts.es_host):
        run.append("  --network host")
        notes.append(
            f"elasticsearch.host is {facts.es_host}: inside a container, localhost is the "
            "container itself. --network host shares this machine's network (Linux). On "
            f"Docker Desktop (macOS, Windows) write {DOCKER_DESKTOP_HOST} instead of "
            "localhost in config.yml and drop --network host."
        )
    else:
        notes.append(
            f"The container must reach {facts.es_host}: its name must resolve and its port "
            "be open from inside Docker (try `docker run --rm curlimages/curl -sk "
            f"{facts.es_host}`)."
        )
    run.append(f"  -v {shlex.quote(f'{folder}:{CONTAINER_CONFIG_DIR}')}")
    for ca in facts.ca_certs:
        ca_dir = str(Path(ca).parent)
        if not Path(ca).is_absolute():
            notes.append(
                f"ca_certs {ca} is a relative path: make it absolute, the container starts "
                "in another folder."
            )
            continue
        run.append(f"  -v {shlex.quote(f'{ca_dir}:{ca_dir}:ro')}")
    if facts.env_file is not None:
        run.append(f"  --env-file {shlex.quote(str(facts.env_file))}")
    for name in facts.variables:
        run.append(f"  -e {name}")
    run.append(f"  {image}")
    run.append(
        f"  /app/bin/elastic-ingest -c {CONTAINER_CONFIG_DIR}/{shlex.quote(facts.config_path.name)}"
    )
    command = " \\\n".join(run)
    notes.extend(_variable_notes(facts))
    notes.append(
        "The service's log is this terminal (or `docker logs -f elastic-connectors`). "
        "Look for 'Connector service started' and lines naming your connector id."
    )
    return DeployPlan(
        "docker",
        TARGET_TITLES["docker"],
        "elastic",
        (f"docker pull {image}", command),
        tuple(notes),
        _keyring_blockers(facts),
        facts={"image": image, "tag": matched[0] if matched else None},
    )


def _source(facts: DeployFacts) -> DeployPlan:
    matched, notes = _version_notes(facts)
    branch = matched[1] if matched else "<major.minor of your cluster, e.g. 9.2>"
    exports = [f"export {name}=…  # the secret's value" for name in facts.variables]
    commands = (
        f"git clone --branch {branch} --depth 1 {ELASTIC_REPOSITORY}",
        "cd connectors",
        "make clean install",
        f"ln -sf {shlex.quote(str(facts.config_path))} config.yml",
        *exports,
        "make run",
    )
    notes.append(
        "Needs git, make and Python 3.10 or 3.11. `make run` reads config.yml in the "
        "checkout: the link keeps it the file Sluice writes."
    )
    if facts.env_file is not None:
        notes.append(
            f"Secrets Sluice placed in {facts.env_file} are loaded with "
            f"`set -a; . {shlex.quote(str(facts.env_file))}; set +a` before `make run`."
        )
    notes.append(
        "The service's log is this terminal. Look for 'Connector service started' and lines "
        "naming your connector id."
    )
    return DeployPlan(
        "source",
        TARGET_TITLES["source"],
        "elastic",
        commands,
        tuple(notes),
        _keyring_blockers(facts),
        facts={"branch": branch, "tag": f"{matched[1]}.0" if matched else None},
    )


def _sluice(facts: DeployFacts) -> DeployPlan:
    command = f"{facts.sluice_command} run -c {shlex.quote(str(facts.config_path))}"
    notes = _variable_notes(facts)
    notes.append("Stop it with Ctrl+C: running jobs are suspended and resume on the next start.")
    return DeployPlan("sluice", TARGET_TITLES["sluice"], "sluice", (command,), tuple(notes))


def unit_name(config_path: Path) -> str:
    """A unit name per config folder, so two setups on one machine don't collide."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", config_path.parent.name).strip("-").lower()
    return f"sluice-{slug or 'connectors'}.service"


def _systemd(facts: DeployFacts) -> DeployPlan:
    name = unit_name(facts.config_path)
    folder = facts.config_path.parent
    lines = [
        "[Unit]",
        f"Description=Sluice connector service ({facts.config_path})",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"WorkingDirectory={folder}",
        # systemd splits ExecStart= like a shell: a path with a space must be quoted, and
        # `%` starts a specifier
        f"ExecStart={facts.sluice_command} run -c "
        + shlex.quote(str(facts.config_path)).replace("%", "%%"),
    ]
    if facts.env_file is not None:
        lines.append(f"EnvironmentFile=-{facts.env_file}")
    lines += [
        "Restart=on-failure",
        "RestartSec=10",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=60",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    commands = (
        "mkdir -p ~/.config/systemd/user",
        f"cp {name} ~/.config/systemd/user/",
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {name}",
        f"journalctl --user -u {name} -f",
    )
    notes = [
        f"Write the unit with `sluice deploy CONNECTOR_ID --systemd --write {name}`, or "
        "from the Deploy view. `loginctl enable-linger` keeps it running after you log out.",
    ]
    if facts.variables and facts.env_file is None:
        notes.append(
            f"config.yml reads {', '.join(facts.variables)} from the environment: add "
            "Environment= lines or an EnvironmentFile= to the unit."
        )
    if facts.keyring_keys:
        notes.append(
            "Secrets in the OS keyring need your login session's keyring: a user unit "
            "started at boot (linger) may not reach it; an environment file always works."
        )
    return DeployPlan(
        "systemd",
        TARGET_TITLES["systemd"],
        "sluice",
        commands,
        tuple(notes),
        unit_name=name,
        unit_text="\n".join(lines),
    )
