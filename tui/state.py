"""What the wizard remembers between runs, so quitting and rerunning resumes where it stopped.

Saved as JSON in `.sluice/wizard-state.json` next to config.yml. It NEVER holds a secret:
API keys and passwords live in the keyring, an environment variable or config.yml (the user's
choice in step 4), sensitive source values live in the connector record. `save()` refuses
any field whose name says secret, as a second line of defence.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from sluice.core.config.atomic import atomic_write
from sluice.core.paths import private_dir

STATE_DIR = ".sluice"
STATE_FILE = "wizard-state.json"
_FORBIDDEN_SUFFIXES = ("password", "api_key", "secret", "token")


@dataclass
class WizardState:
    """The user's progress through the seven steps (no secrets)."""

    step: int = 0
    completed: list[int] = field(default_factory=list)
    # 1. prerequisites
    service_type: str | None = None
    #: "" = the type's own runner; "elastic" = hand a type Sluice runs to Elastic's service
    runner: str = ""
    #: how the user deploys the service (a key of core.deployment.TARGETS), and its release
    deploy_target: str = ""
    service_version: str = ""
    # 2. Elasticsearch
    es_host: str = "http://localhost:9200"
    es_auth: str = "api_key"  # api_key | basic | none
    es_username: str = "elastic"
    es_ca_certs: str = ""
    es_fingerprint: str = ""
    sandbox: bool = False
    sandbox_port: int | None = None
    # 3. connector
    connector_id: str | None = None
    connector_name: str = ""
    connector_description: str = ""
    # 4. config.yml
    config_path: str = "config.yml"
    secret_placement: str = "keyring"  # keyring | env | file
    config_written: bool = False
    # 6. index
    index_mode: str = "new"  # new | existing
    index_name: str = ""
    language: str = ""
    scoped_key: bool = False  # create an API key limited to this connector
    # 7. review
    last_job_id: str | None = None

    def mark_done(self, step: int) -> None:
        if step not in self.completed:
            self.completed.append(step)
            self.completed.sort()

    def forget_from(self, step: int) -> None:
        """Steps from `step` on need redoing (an earlier answer changed under them)."""
        self.completed = [s for s in self.completed if s < step]

    def is_done(self, step: int) -> bool:
        return step in self.completed

    @property
    def first_open_step(self) -> int:
        """The first step not done yet (where a resumed wizard should land at the latest)."""
        step = 0
        while step in self.completed:
            step += 1
        return step


def state_path(config_path: str | os.PathLike[str]) -> Path:
    """`.sluice/wizard-state.json` in the folder of config.yml."""
    return Path(config_path).expanduser().resolve().parent / STATE_DIR / STATE_FILE


def load_state(config_path: str | os.PathLike[str], start_over: bool = False) -> WizardState:
    """The saved state, or a fresh one (when absent, unreadable, or `start_over`)."""
    fresh = WizardState(config_path=str(config_path))
    path = state_path(config_path)
    if start_over or not path.exists():
        return fresh
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    if not isinstance(raw, dict):
        return fresh
    known = {f.name for f in fields(WizardState)}
    values = {k: v for k, v in raw.items() if k in known}
    try:
        state = WizardState(**values)
    except TypeError:
        return fresh
    state.completed = sorted({int(s) for s in state.completed if isinstance(s, int)})
    return state


def _assert_no_secret(values: dict[str, Any]) -> None:
    for key in values:
        if key.endswith(_FORBIDDEN_SUFFIXES):
            raise ValueError(f"wizard state must not hold secrets (field {key!r})")


def save_state(state: WizardState, config_path: str | os.PathLike[str] | None = None) -> Path:
    """Write the state atomically (temp file + rename), private to the user."""
    path = state_path(config_path or state.config_path)
    _assert_no_secret(vars(state))  # fields added at run time too, not only declared ones
    values = asdict(state)
    private_dir(path.parent)  # 0700: it names the cluster, the connector and the index
    atomic_write(
        path,
        lambda stream: json.dump(values, stream, indent=2, sort_keys=True),
        mode=0o600,
        backup=False,
    )
    return path
