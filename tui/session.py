"""One run of the wizard: the saved state plus what must only live in memory (secrets, the
sandbox process, the connector just read)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sluice.core import sandbox as sandboxes
from sluice.tui.state import WizardState, load_state, save_state, state_path

if TYPE_CHECKING:
    from sluice.core.workflows.cluster import Cluster as ClusterType


def Cluster(settings: dict[str, Any], **options: Any) -> ClusterType:
    """`core.workflows.cluster.Cluster`, loaded on first use: the Elasticsearch client is not
    needed for the wizard's first frame."""
    from sluice.core.workflows.cluster import Cluster as ClusterClass

    return ClusterClass(settings, **options)


def _runs_in_sluice(service_type: str) -> bool:
    """Asked on every redraw: the registry's cached answer (imported when first asked)."""
    from sluice.sources.registry import sluice_runs

    return sluice_runs(service_type)


@dataclass
class Session:
    """Everything the steps share. Secrets stay in these attributes, never in the state file."""

    config_path: Path
    state: WizardState
    es_api_key: str = field(default="", repr=False)
    es_password: str = field(default="", repr=False)
    scoped_api_key: str = field(default="", repr=False)
    sandbox: sandboxes.Sandbox | None = None
    connector: Any = None  # core.protocol.Connector last read
    source_configuration: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    #: False until `load()` has run: the wizard shows its steps once the session is whole.
    loaded: bool = True

    @classmethod
    def open(cls, config_path: str | Path, start_over: bool = False) -> Session:
        """The saved answers only (one small local file): cheap enough before the first
        frame. What a resumed setup also needs (config.yml, keyring, the sandbox) is
        `load()`'s work, run in a worker after mount."""
        path = Path(config_path).expanduser()
        state = load_state(path, start_over=start_over)
        state.config_path = str(path)
        session = cls(config_path=path, state=state)
        session.loaded = not session.loading_work()
        return session

    def loading_work(self) -> list[tuple[str, Callable[[], None]]]:
        """What `load()` will do, as (progress words, blocking call): empty for a fresh
        setup, so its first frame is the whole wizard."""
        work: list[tuple[str, Callable[[], None]]] = []
        if self.state.config_written:
            work.append(("Reading config.yml and the keyring…", self._recover_secrets))
        if self.state.sandbox and sandboxes.sandbox_available():
            work.append(("Starting the local sandbox again…", self._restart_sandbox))
        return work

    def load(self, progress: Callable[[str], None] = lambda _words: None) -> None:
        """Blocking (file, keyring, a server process): call it from a worker thread."""
        for words, step in self.loading_work():
            progress(words)
            step()
        self.loaded = True

    def _restart_sandbox(self) -> None:
        """A resumed setup that used the sandbox gets it back (same port and data) before any
        screen talks to it; if it can't start, step 2 says why and offers it again."""
        if not self.state.sandbox or not sandboxes.sandbox_available():
            return
        try:
            self.sandbox = sandboxes.start_sandbox(
                self.sandbox_dir, port=self.state.sandbox_port, any_port_if_taken=True
            )
        except sandboxes.SandboxError:
            self.sandbox = None
            return
        if self.sandbox.url != self.state.es_host:
            self.state.es_host = self.sandbox.url  # the old port was taken: follow the new one
            self.state.sandbox_port = self.sandbox.port

    # -------------------------------------------------------------------- runner
    @property
    def runner(self) -> str:
        """Who runs the connector: "sluice" (its engine) or "elastic" (Elastic's connector
        service) — the latter for every type Sluice doesn't run, or by the user's choice."""
        service_type = self.state.service_type or ""
        if not service_type or not _runs_in_sluice(service_type):
            return "elastic" if service_type else "sluice"
        return "elastic" if self.state.runner == "elastic" else "sluice"

    @property
    def run_by_elastic(self) -> bool:
        return self.runner == "elastic"

    # -------------------------------------------------------------------- persistence
    @property
    def state_file(self) -> Path:
        return state_path(self.config_path)

    def save(self) -> None:
        save_state(self.state, self.config_path)

    def _recover_secrets(self) -> None:
        """On resume, take the Elasticsearch credentials back from config.yml (resolving
        keyring and ${ENV} references) so the user does not type them again."""
        if not self.state.config_written:
            return
        from sluice.core.config import ConfigError, load_config  # a resume's work, not start-up

        try:
            path = Path(self.state.config_path or self.config_path)
            config = load_config(path) if path.exists() else None
        except ConfigError:
            return
        if config is None:
            return
        es = config.elasticsearch
        # Only what is still empty: a value set meanwhile (typed, or by a test) wins.
        self.es_api_key = self.es_api_key or str(es.get("api_key") or "")
        if es.get("username") and es.get("password") and not self.es_password:
            self.es_password = str(es.get("password") or "")
        if self.state.connector_id and not self.scoped_api_key:
            entry = config.connector(self.state.connector_id) or {}
            self.scoped_api_key = str(entry.get("api_key") or "")

    # -------------------------------------------------------------------- Elasticsearch
    def es_settings(self) -> dict[str, Any]:
        """The `elasticsearch` section for the answers so far (secrets included: memory only)."""
        state = self.state
        settings: dict[str, Any] = {"host": state.es_host.strip()}
        if state.es_auth == "api_key" and self.es_api_key:
            settings["api_key"] = self.es_api_key
        elif state.es_auth == "basic":
            settings["username"] = state.es_username
            settings["password"] = self.es_password
        if state.es_ca_certs.strip():
            settings["ca_certs"] = state.es_ca_certs.strip()
        if state.es_fingerprint.strip():
            settings["ca_fingerprint"] = state.es_fingerprint.strip()
        settings["request_timeout"] = 30
        settings["max_retries"] = 1
        return settings

    def secret_environment(self) -> dict[str, str]:
        """`${VAR}` values config.yml references for the secrets typed in this session (the
        env-variable placement), so checks of the deployed file can resolve them here."""
        from sluice.core.secrets import env_var_name

        if self.state.secret_placement != "env":
            return {}
        found: dict[str, str] = {}
        if self.es_api_key:
            found[env_var_name("es-api-key")] = self.es_api_key
        if self.es_password:
            found[env_var_name("es-password")] = self.es_password
        return found

    def cluster(self) -> ClusterType:
        """A new connection with the current answers (the caller closes it)."""
        return Cluster(self.es_settings())

    # -------------------------------------------------------------------- sandbox
    def stop_sandbox(self) -> None:
        """Stop the sandbox in use (the user asked), even one `sluice sandbox start` runs."""
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                sandboxes.stop_sandbox(self.sandbox)
            self.sandbox = None

    def release_sandbox(self) -> None:
        """On exit: stop the sandbox this app started; one kept running by `sluice sandbox
        start` (or another app's) stays up."""
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                sandboxes.release_sandbox(self.sandbox)
            self.sandbox = None

    @property
    def sandbox_dir(self) -> Path:
        """`.sluice/sandbox` next to config.yml: its data and port outlive `--new`."""
        return sandboxes.sandbox_home(self.config_path)
