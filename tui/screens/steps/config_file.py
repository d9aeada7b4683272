"""Step 4: config.yml — where it goes, where each secret goes, and the exact text (or the
diff against the file already there) before anything is written.

The file is written by `ConfigDocument` (atomic, comments kept, `.bak` kept). Each place a
secret can go says truthfully what protects it there (`SecretPlacement.describe()`).
"""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Static

from tui import services
from tui.screens.steps.base import Step
from tui.widgets.badges import escape
from tui.widgets.field_status import FieldStatus
from tui.widgets.form import FieldRow
from tui.widgets.toggles import MarkedCheckbox, MarkedRadioButton

ES_API_KEY_SECRET = "es-api-key"
ES_PASSWORD_SECRET = "es-password"
PLACEMENTS = ("keyring", "env", "file")


def connector_key_secret(connector_id: str) -> str:
    """Keyring entry / env variable stem for a connector's own API key."""
    return f"connector-{connector_id}-api-key"


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
    ConfigFileStep #preview-title { text-style: bold; margin-top: 1; }
    ConfigFileStep #config-preview {
        height: auto; border: round $secondary 60%; padding: 0 1; background: $surface;
    }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._keyring = services.keyring_status()
        self._problem = ""

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
        yield Static("", id="preview-title")
        yield Static("", id="config-preview")
        yield FieldStatus(id="config-status")

    def on_mount(self) -> None:
        state = self.session.state
        if state.secret_placement == "keyring" and not self._keyring.available:
            state.secret_placement = "env"
        self._press(state.secret_placement)

    def _press(self, placement: str) -> None:
        button = self.query_one(f"#placement-{placement}", RadioButton)
        button.value = True

    def on_enter(self) -> None:
        state = self.session.state
        if not state.config_path:
            state.config_path = str(self.session.config_path)
        self.refresh_preview()

    # ------------------------------------------------------------------ answers
    @property
    def placement(self) -> services.SecretPlacement:
        return services.SecretPlacement(self.session.state.secret_placement)

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
        state = self.session.state
        section: dict = {
            "host": state.es_host.strip(),
            "api_key": None,
            "username": None,
            "password": None,
            "ca_certs": state.es_ca_certs.strip() or None,
            "ca_fingerprint": state.es_fingerprint.strip() or None,
        }
        if state.es_auth == "basic":
            section["username"] = state.es_username
        for key, name, value in self._secrets():
            if for_preview:
                section[key] = services.secret_reference_preview(self.placement, name, value)
            else:
                section[key] = services.place_secret(self.placement, name, value)
        return section

    def connector_entry(self) -> dict | None:
        state = self.session.state
        if not state.connector_id:
            return None
        return {"connector_id": state.connector_id, "service_type": state.service_type or ""}

    def refresh_preview(self) -> None:
        self._problem = ""
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
            if placement is services.SecretPlacement.KEYRING:
                description += "\n" + self._keyring.explanation
            text.update(escape(description))
        else:
            text.update("No secret to store: this cluster is used without authentication.")
        consent.set_class(has_secret and placement is services.SecretPlacement.FILE, "-shown")
        env_names = [services.env_var_name(name) for _, name, _ in self._secrets()]
        if has_secret and placement is services.SecretPlacement.ENV:
            env_hint.update(
                f"Before `{services.sluice_command()} run` or Elastic's service starts, set "
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
            document = services.config_document(
                path, self.es_section(for_preview=True), self.connector_entry()
            )
            result = services.preview_config(document)
        except services.ConfigError as exc:
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

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        state = self.session.state
        if not state.config_path.strip():
            return "Choose where config.yml goes."
        if self._problem:
            return "The existing file has a problem (see above)."
        if self._secrets():
            placement = self.placement
            if placement is services.SecretPlacement.KEYRING and not self._keyring.available:
                return "No OS keyring here: pick an environment variable or the file."
            if (
                placement is services.SecretPlacement.FILE
                and not self.query_one("#file-consent", Checkbox).value
            ):
                return "Tick the box to accept a plain-text secret in the file."
        return None

    async def commit(self) -> bool:
        state = self.session.state
        status = self.query_one("#config-status", FieldStatus)
        try:
            section = self.es_section(for_preview=False)
            document = services.config_document(
                state.config_path.strip(), section, self.connector_entry()
            )
            path = services.save_config(document)
        except services.SecretError as exc:
            status.show("fail", str(exc), "pick another place for the secret")
            return False
        except services.ConfigError as exc:
            status.show("fail", str(exc))
            return False
        state.config_written = True
        self.session.save()
        status.show("ok", f"saved {path}")
        self.notify(f"Wrote {Path(path)}", title="config.yml")
        return True
