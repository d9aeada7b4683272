"""Step 4: config.yml — where it goes, where each secret goes, and the exact text (or the
diff against the file already there) before anything is written.

The file is written by `ConfigDocument` (atomic, comments kept, `.bak` kept). Each place a
secret can go says truthfully what protects it there (`SecretPlacement.describe()`).

The file must run under Elastic's own service unchanged: the step asks the cluster whether it
has the Connector API (no: `feature_use_connectors_api: false`), and says inline when a setting
is one Elastic's service does not read, offering what it reads instead.
"""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from sluice.core.invocation import sluice_command
from sluice.core.secrets import (
    KeyringStatus,
    SecretError,
    SecretPlacement,
    env_var_name,
    keyring_status,
    place_secret,
    planned_reference,
)
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow
from sluice.tui.widgets.toggles import MarkedCheckbox, MarkedRadioButton

ES_API_KEY_SECRET = "es-api-key"
ES_PASSWORD_SECRET = "es-password"
PLACEMENTS = ("keyring", "env", "file")
#: What the user can do on this screen about a setting Elastic's service does not read (the
#: others show core's fix; a bearer token never gets here: the step writes step 2's login).
COMPAT_FIXES = {
    "ca_fingerprint": "Press “Save CA file”: the certificate with that fingerprint is saved "
    "next to config.yml and written as ca_certs, which Elastic's service reads (Sluice keeps "
    "the fingerprint).",
}


async def detect_connector_api(settings: dict) -> bool | None:
    """Does the cluster have the Connector API? (The client loads here, not at start-up.)"""
    from sluice.core.checks.cluster import detect_connector_api as detect

    return await detect(settings)


class ConfigFileStep(Step):
    TITLE = "4. config.yml"
    HELP = (
        "The file Elastic's connector service (and `{sluice} run`) reads. Nothing is written "
        "until you press Next; the preview below is exactly what will be saved."
    )
    NEXT_LABEL = "Write & next"

    DEFAULT_CSS = """
    ConfigFileStep #placement { height: auto; width: 1fr; border: round $primary 40%; }
    ConfigFileStep #placement:focus-within { border: round $primary; }
    ConfigFileStep #placement-text { color: $text-muted; margin: 0 1 1 1; }
    ConfigFileStep #file-consent { display: none; }
    ConfigFileStep #file-consent.-shown { display: block; }
    ConfigFileStep #env-hint { display: none; margin: 0 1 1 1; }
    ConfigFileStep #env-hint.-shown { display: block; }
    ConfigFileStep #api-note { color: $text-muted; margin: 0 1; }
    ConfigFileStep #compat-box {
        height: auto; border: round $warning; padding: 0 1; display: none;
    }
    ConfigFileStep #compat-box.-shown { display: block; }
    ConfigFileStep #preview-title { text-style: bold; margin-top: 1; }
    ConfigFileStep #config-preview {
        height: auto; border: round $secondary 60%; padding: 0 1; background: $surface;
    }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._keyring_found: KeyringStatus | None = None
        self._problem = ""
        # Does the cluster of step 2 have the Connector API? None: unknown (yet).
        self._connector_api: bool | None = None
        self._api_asked: int | None = None  # hash of the step-2 answers it was asked with
        self._api_checking = False

    @property
    def _keyring(self) -> KeyringStatus:
        """Asked once, when the step is built (a keyring probe is not start-up work)."""
        if self._keyring_found is None:
            self._keyring_found = keyring_status()
        return self._keyring_found

    def compose(self) -> ComposeResult:
        state = self.session.state
        yield from self.compose_intro()
        yield FieldRow(
            "File",
            Input(state.config_path or "config.yml", id="config-path", compact=True),
            required=True,
            status_id="config-path-status",
        )
        yield Static("Where the Elasticsearch secret goes", classes="section", id="placement-title")
        keyring_label = "OS keyring"
        if not self._keyring.available:
            keyring_label += " (not available on this machine)"
        with RadioSet(id="placement"):
            yield MarkedRadioButton(
                keyring_label, id="placement-keyring", disabled=not self._keyring.available
            )
            yield MarkedRadioButton("Environment variable reference", id="placement-env")
            yield MarkedRadioButton(
                "In config.yml itself (plain text, mode 0600)", id="placement-file"
            )
        yield Static("", id="placement-text")
        yield MarkedCheckbox("I accept the secret in plain text in config.yml", id="file-consent")
        yield Static("", id="env-hint")
        yield Static("", id="api-note")
        with Vertical(id="compat-box"):
            yield Static("", id="compat-text")
            yield Button("Save CA file", id="compat-save-ca", variant="warning", compact=True)
            yield FieldStatus(id="compat-status")
        yield Static("", id="preview-title")
        yield Static("", id="config-preview")
        yield FieldStatus(id="config-status")
        yield Button(
            "Deploy… (commands to run the service)",
            id="config-deploy",
            compact=True,
            tooltip="Docker / source commands for Elastic's service, or `sluice run`",
        )

    def on_mount(self) -> None:
        state = self.session.state
        if state.secret_placement == "keyring" and not self._keyring_usable:
            state.secret_placement = "env"
        self._press(state.secret_placement)

    @property
    def _keyring_usable(self) -> bool:
        """Elastic's service cannot read the OS keyring: for a connector it runs, the
        keyring is no place for the secret."""
        return self._keyring.available and not self.session.run_by_elastic

    def _press(self, placement: str) -> None:
        button = self.query_one(f"#placement-{placement}", RadioButton)
        button.value = True

    def on_enter(self) -> None:
        state = self.session.state
        if not state.config_path:
            state.config_path = str(self.session.config_path)
        keyring = self.query_one("#placement-keyring", RadioButton)
        keyring.disabled = not self._keyring_usable
        if self._keyring.available and self.session.run_by_elastic:
            keyring.label = "OS keyring (Elastic's connector service can't read it)"
        if state.secret_placement == "keyring" and not self._keyring_usable:
            state.secret_placement = "env"
            self._press("env")
        self.query_one("#config-deploy").display = state.config_written
        settings = self.session.es_settings()
        asked = hash(tuple(sorted((key, str(value)) for key, value in settings.items())))
        if asked != self._api_asked:  # step 2's answers changed: ask again
            self._api_asked, self._connector_api, self._api_checking = asked, None, True
            self._ask_connector_api(asked, settings)
        self.refresh_preview()

    @work(exclusive=True, group="connector-api")
    async def _ask_connector_api(self, asked: int, settings: dict) -> None:
        answer = await detect_connector_api(settings)
        if asked != self._api_asked:
            return  # asked with answers that have changed since
        self._connector_api, self._api_checking = answer, False
        self.refresh_preview()

    # ------------------------------------------------------------------ answers
    @property
    def placement(self) -> SecretPlacement:
        return SecretPlacement(self.session.state.secret_placement)

    def _secrets(self) -> list[tuple[str, str, str]]:
        """(config key, secret name, value) of the secrets config.yml must reference."""
        state, session = self.session.state, self.session
        if state.es_auth == "api_key" and session.es_api_key:
            return [("api_key", ES_API_KEY_SECRET, session.es_api_key)]
        if state.es_auth == "basic" and session.es_password:
            return [("password", ES_PASSWORD_SECRET, session.es_password)]
        return []

    @on(RadioSet.Changed, "#placement")
    def _placement_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        chosen = (event.pressed.id or "").removeprefix("placement-")
        if chosen in PLACEMENTS:
            self.session.state.secret_placement = chosen
            self.session.save()
        self.refresh_preview()

    @on(Input.Changed, "#config-path")
    def _path_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self.session.state.config_path:
            self.session.state.config_path = event.value
            self.session.state.config_written = False
            self.session.save()
        self.refresh_preview()

    @on(Checkbox.Changed, "#file-consent")
    def _consent_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.changed()

    # ------------------------------------------------------------------ preview
    def es_section(self, *, for_preview: bool) -> dict:
        """The `elasticsearch` keys to write (None = remove the key from the file)."""
        from sluice.core.config.elastic_compat import FLAG as CONNECTORS_API_FLAG
        from sluice.core.config.elastic_compat import flag_for_cluster

        state = self.session.state
        section: dict = {
            "host": state.es_host.strip(),
            "api_key": None,
            "username": None,
            "password": None,
            # The wizard writes the authentication it checked in step 2, never a token left
            # in the file (which Sluice would prefer to username/password).
            "bearer_auth": None,
            "ca_certs": state.es_ca_certs.strip() or None,
            "ca_fingerprint": state.es_fingerprint.strip() or None,
        }
        # Known: false where the cluster has no Connector API, else left out (Elastic's
        # default, true). Unknown (unreachable, still asking): the file keeps what it says.
        if not self._api_checking and self._connector_api is not None:
            flag = flag_for_cluster(self._connector_api)
            section[CONNECTORS_API_FLAG] = flag
        if state.es_auth == "basic":
            section["username"] = state.es_username
        for key, name, value in self._secrets():
            if for_preview:
                section[key] = planned_reference(self.placement, name, value)
            else:
                section[key] = place_secret(self.placement, name, value)
        return section

    def connector_entry(self) -> dict | None:
        state = self.session.state
        if not state.connector_id:
            return None
        return {"connector_id": state.connector_id, "service_type": state.service_type or ""}

    def refresh_preview(self) -> None:
        from sluice.core.config import ConfigError
        from sluice.core.workflows.config_file import config_document, preview_config

        self._problem = ""
        self._show_api_note()
        self._show_compat({})
        state = self.session.state
        has_secret = bool(self._secrets())
        placement = self.placement
        self.query_one("#placement-title").display = has_secret
        self.query_one("#placement").display = has_secret
        text = self.query_one("#placement-text", Static)
        consent = self.query_one("#file-consent", Checkbox)
        env_hint = self.query_one("#env-hint", Static)
        if has_secret:
            description = placement.describe()
            if placement is SecretPlacement.KEYRING:
                description += "\n" + self._keyring.explanation
            text.update(escape(description))
        else:
            text.update("No secret to store: this cluster is used without authentication.")
        consent.set_class(has_secret and placement is SecretPlacement.FILE, "-shown")
        env_names = [env_var_name(name) for _, name, _ in self._secrets()]
        if has_secret and placement is SecretPlacement.ENV:
            env_hint.update(
                f"Before `{sluice_command()} run` or Elastic's service starts, set "
                + ", ".join(f"[b]{n}[/b]" for n in env_names)
                + " in its environment (e.g. a systemd EnvironmentFile, mode 0600). "
                "This session keeps using the value you typed."
            )
            env_hint.add_class("-shown")
        else:
            env_hint.remove_class("-shown")
        title = self.query_one("#preview-title", Static)
        preview = self.query_one("#config-preview", Static)
        path_status = self.query_one("#config-path-status", FieldStatus)
        path = state.config_path.strip()
        if not path:
            path_status.show("fail", "enter where config.yml goes", "e.g. ./config.yml")
            preview.update("")
            self.changed()
            return
        path_status.clear()
        try:
            document = config_document(
                path, self.es_section(for_preview=True), self.connector_entry()
            )
            result = preview_config(document)
        except ConfigError as exc:
            self._problem = str(exc)
            path_status.show("fail", str(exc), "fix the file by hand or choose another path")
            preview.update("")
            self.changed()
            return
        except OSError as exc:
            self._problem = str(exc)
            path_status.show("fail", f"cannot read {path}: {exc.strerror or exc}")
            preview.update("")
            self.changed()
            return
        self._show_compat(document.get("elasticsearch") or {})
        if result.exists:
            if result.diff:
                title.update(f"Changes to the existing {escape(path)} (comments kept, .bak saved):")
                preview.update(Syntax(result.diff, "diff", theme="ansi_dark", word_wrap=True))
            else:
                title.update(f"{escape(path)} already says all this: nothing to change.")
                preview.update(Syntax(result.text, "yaml", theme="ansi_dark", word_wrap=True))
        else:
            title.update(f"New file {escape(path)} — exactly this text (secrets masked):")
            preview.update(Syntax(result.text, "yaml", theme="ansi_dark", word_wrap=True))
        self.changed()

    # ------------------------------------------------------------------ Elastic's service
    def _show_api_note(self) -> None:
        """What the cluster's Connector API (or its absence) means for config.yml."""
        from sluice.core.config.elastic_compat import FLAG as CONNECTORS_API_FLAG

        note = self.query_one("#api-note", Static)
        flag = CONNECTORS_API_FLAG
        if self._api_asked is None:
            text = ""  # not asked yet (the step is not shown)
        elif self._api_checking:
            text = "Checking whether the cluster has the Connector API…"
        elif self._connector_api is False:
            text = (
                f"This cluster has no Connector API: config.yml says {flag}: false, so "
                "Elastic's service uses the .elastic-connectors indices directly (as Sluice "
                "does) instead of failing at check-in."
            )
        elif self._connector_api is None:
            text = (
                f"Could not tell whether this cluster has the Connector API: {flag} stays as "
                f"the file has it. `{sluice_command()} check` says whether it must "
                "be false."
            )
        else:
            text = ""
        note.update(escape(text))
        note.display = bool(text)

    def _show_compat(self, es_section: dict) -> None:
        """The settings about to be written that Elastic's service would not read."""
        from sluice.core.config.elastic_compat import unreadable_settings

        problems = unreadable_settings(es_section)
        box = self.query_one("#compat-box")
        box.set_class(bool(problems), "-shown")
        lines = [
            f"[b]elasticsearch.{p.key}[/b]: {escape(p.message)}.\n"
            f"  {escape(COMPAT_FIXES.get(p.key, p.fix))}"
            for p in problems
        ]
        self.query_one("#compat-text", Static).update("\n".join(lines))
        self.query_one("#compat-save-ca").display = any(p.key == "ca_fingerprint" for p in problems)

    @on(Button.Pressed, "#compat-save-ca")
    def _save_ca_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        state = self.session.state
        folder = Path(state.config_path.strip() or "config.yml").expanduser().parent
        self.query_one("#compat-status", FieldStatus).show("running", "fetching the certificate…")
        self._save_ca(state.es_host.strip(), state.es_fingerprint.strip(), folder)

    @work(exclusive=True, group="save-ca")
    async def _save_ca(self, host: str, fingerprint: str, folder: Path) -> None:
        from sluice.core.es.tls import CertificateError, save_pinned_ca

        status = self.query_one("#compat-status", FieldStatus)
        try:
            path = await save_pinned_ca(host, fingerprint, folder)
        except (CertificateError, ValueError, OSError) as exc:
            status.show("fail", f"CA file not saved: {exc}", "check the endpoint in step 2")
            return
        self.session.state.es_ca_certs = str(path)
        self.session.save()
        status.clear()
        self.notify(f"Certificate saved to {path}; config.yml gets ca_certs: {path}")
        self.refresh_preview()

    @on(Button.Pressed, "#config-deploy")
    def open_deploy(self, event: Button.Pressed | None = None) -> None:
        if event is not None:
            event.stop()
        from sluice.tui.screens.deploy import DeployScreen

        self.app.push_screen(DeployScreen(self.session))

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        state = self.session.state
        if not state.config_path.strip():
            return "Choose where config.yml goes."
        if self._api_checking:
            return "Checking whether the cluster has the Connector API…"
        if self._problem:
            return "The existing file has a problem (see above)."
        if self._secrets():
            placement = self.placement
            if placement is SecretPlacement.KEYRING and not self._keyring_usable:
                if self.session.run_by_elastic:
                    return "Elastic's service can't read the keyring: pick another place."
                return "No OS keyring here: pick an environment variable or the file."
            if (
                placement is SecretPlacement.FILE
                and not self.query_one("#file-consent", Checkbox).value
            ):
                return "Tick the box to accept a plain-text secret in the file."
        return None

    async def commit(self) -> bool:
        from sluice.core.config import ConfigError
        from sluice.core.workflows.config_file import config_document

        state = self.session.state
        status = self.query_one("#config-status", FieldStatus)
        try:
            section = self.es_section(for_preview=False)
            document = config_document(state.config_path.strip(), section, self.connector_entry())
            path = document.save()
        except SecretError as exc:
            status.show("fail", str(exc), "pick another place for the secret")
            return False
        except ConfigError as exc:
            status.show("fail", str(exc))
            return False
        state.config_written = True
        self.session.save()
        self.query_one("#config-deploy").display = True
        status.show("ok", f"saved {path}")
        self.notify(f"Wrote {Path(path)}", title="config.yml")
        return True
