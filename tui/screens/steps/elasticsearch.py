"""Step 2: where Elasticsearch is and how to log in — checked live as the user types.

This step is the form and the glue. Its parts each have one job: `CheckRunner` (debounce,
generations, the worker; only results of the current answers reach the step),
`CertTrustBox` (an untrusted https certificate shown with its fingerprint, pinned when the
user confirms) and `SandboxOffer` (the local sandbox, NOT FOR PRODUCTION). A user's edit
clears every result on screen and restarts the pause before the checks; a value the step
sets itself (a restored answer, the sandbox's address, a pinned CA file) changes nothing by
side effect — the step asks for a run when it needs one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from sluice.core.echo import ellipsize
from sluice.core.sandbox import sandbox_available
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.cert_trust import CertTrustBox
from sluice.tui.widgets.check_list import CheckList, CheckView
from sluice.tui.widgets.check_runner import CheckRunner
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow
from sluice.tui.widgets.sandbox_offer import SandboxOffer
from sluice.tui.widgets.secret_input import SecretInput

AUTH_CHOICES = [
    ("API key (recommended)", "api_key"),
    ("Username and password", "basic"),
    ("None (security off)", "none"),
]
#: Which inline status shows a check result, by the config key the result names.
FIELD_STATUS = {
    "host": "#es-host-status",
    "api_key": "#es-api-key-status",
    "bearer_auth": "#es-api-key-status",
    "username": "#es-password-status",
    "password": "#es-password-status",
    "ca_certs": "#es-ca-status",
    "ca_fingerprint": "#es-ca-status",
    "verify_certs": "#es-ca-status",
}
#: Checks about the content index: step 6 runs them with a name; here they'd only be skipped.
STEP_6_CHECKS = frozenset({"index_name", "index", "pipeline"})


#: The words of this form for the config keys that check messages name (written for
#: config.yml and the CLI: "set elasticsearch.api_key").
FIELD_WORDS = {
    "host": "the Endpoint",
    "api_key": "the API key",
    "bearer_auth": "the token",
    "username": "the Username",
    "password": "the Password",
    "ca_certs": "the CA file",
    "ca_fingerprint": "the CA fingerprint",
}
_CONFIG_KEY = re.compile(r"elasticsearch\.(\w+)")


def _without_key(message: str, field: str | None) -> str:
    """Drop the config-file key a message starts with ("elasticsearch.host: ...") when it is
    shown under that very field, where the key name means nothing to the user."""
    prefix = f"elasticsearch.{field}: "
    return message.removeprefix(prefix) if field else message


def in_form_words(text: str) -> str:
    """`elasticsearch.api_key` -> `the API key`: this step is the form, not config.yml."""
    return _CONFIG_KEY.sub(lambda m: FIELD_WORDS.get(m.group(1), m.group(0)), text)


def as_shown(view: CheckView) -> CheckView:
    """A check result in this form's words (the key prefix goes when it names the field)."""
    message = _without_key(view.message, view.field) if view.field in FIELD_STATUS else view.message
    return replace(view, message=in_form_words(message), hint=in_form_words(view.hint))


class ElasticsearchStep(Step):
    TITLE = "2. Elasticsearch"
    HELP = "Where your cluster answers and how Sluice logs in. Checked as you type."

    DEFAULT_CSS = """
    ElasticsearchStep #es-general { margin-left: 0; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._entered = False
        self._checked = False
        self._results: dict[str, CheckView] = {}

    def compose(self) -> ComposeResult:
        state = self.session.state
        yield from self.compose_intro()
        if sandbox_available():
            yield SandboxOffer(self.session)
        yield FieldRow(
            "Endpoint",
            Input(state.es_host, placeholder="https://HOST:9200", id="es-host", compact=True),
            required=True,
            status_id="es-host-status",
        )
        yield FieldRow(
            "Authentication",
            Select(
                AUTH_CHOICES, value=state.es_auth, allow_blank=False, id="es-auth", compact=True
            ),
        )
        yield FieldRow(
            "API key",
            SecretInput(
                self.session.es_api_key,
                placeholder="encoded API key (from Kibana or the API)",
                id="es-api-key",
                compact=True,
            ),
            required=True,
            status_id="es-api-key-status",
            id="row-api-key",
        )
        yield FieldRow(
            "Username",
            Input(state.es_username, id="es-username", compact=True),
            required=True,
            id="row-username",
        )
        yield FieldRow(
            "Password",
            SecretInput(self.session.es_password, id="es-password", compact=True),
            required=True,
            status_id="es-password-status",
            id="row-password",
        )
        yield FieldRow(
            "CA file (https)",
            Input(
                state.es_ca_certs,
                placeholder="/path/to/http_ca.crt — empty: system CAs",
                id="es-ca-certs",
                compact=True,
            ),
            status_id="es-ca-status",
        )
        from sluice.core.es.tls import PINNED_CA_NAME  # composed after the first frame

        yield CertTrustBox(self.session.state_file.parent / PINNED_CA_NAME)
        yield Static("Connection checks", classes="section")
        yield FieldStatus(id="es-general")
        yield CheckList(id="es-checks", empty="Checks run as soon as an endpoint is entered.")
        yield CheckRunner(self.session.es_settings, shown=as_shown, skip=STEP_6_CHECKS)

    def on_mount(self) -> None:
        self._show_auth_rows()

    def on_enter(self) -> None:
        """The first time the step is shown: check the saved answers once (on purpose), or
        start the sandbox a resumed setup used. Not on mount: the wizard mounts this step
        in the background, and a check started then could land after the user's typing."""
        if self._entered:
            return
        self._entered = True
        state, sandbox = self.session.state, self.session.sandbox
        if state.sandbox and sandbox is None and sandbox_available():
            self.query_one(SandboxOffer).start()  # a resumed setup that used the sandbox
        elif state.es_host.strip():
            self.check_now()  # saved answers: check them once, on purpose

    # ------------------------------------------------------------------ edits
    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        """A user's edit: record it and check again when typing pauses. (The step's own
        writes go through `_set_quietly` and post no Changed.)"""
        state, session = self.session.state, self.session
        fields = {
            "es-host": (lambda: state.es_host, lambda v: setattr(state, "es_host", v)),
            "es-api-key": (lambda: session.es_api_key, lambda v: setattr(session, "es_api_key", v)),
            "es-username": (lambda: state.es_username, lambda v: setattr(state, "es_username", v)),
            "es-password": (
                lambda: session.es_password,
                lambda v: setattr(session, "es_password", v),
            ),
            "es-ca-certs": (lambda: state.es_ca_certs, lambda v: setattr(state, "es_ca_certs", v)),
        }
        accessors = fields.get(event.input.id or "")
        if accessors is None:
            return
        event.stop()
        get, put = accessors
        if get() == event.value:
            return  # Input posts Changed for its initial value too: nothing was edited
        put(event.value)
        if event.input.id == "es-ca-certs":
            state.es_fingerprint = ""
        self._answers_changed()

    @on(Select.Changed, "#es-auth")
    def _auth_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.session.state.es_auth:
            return
        self.session.state.es_auth = str(event.value)
        self._show_auth_rows()
        self._answers_changed()

    def _show_auth_rows(self) -> None:
        auth = self.session.state.es_auth
        self.query_one("#row-api-key").display = auth == "api_key"
        self.query_one("#row-username").display = auth == "basic"
        self.query_one("#row-password").display = auth == "basic"

    def _set_quietly(self, **values: str) -> None:
        """Show values the step itself decided (by widget id), without a Changed event:
        setting a value must not start a check run by side effect."""
        with self.prevent(Input.Changed, Select.Changed):
            for widget_id, value in values.items():
                widget = self.query_one(f"#{widget_id.replace('_', '-')}")
                widget.value = value  # type: ignore[attr-defined]

    def _answers_changed(self, *, now: bool = False) -> None:
        state = self.session.state
        # Later steps were done against the old answers: they must be confirmed again.
        if state.is_done(1):
            state.forget_from(1)
        self.session.save()
        if now:
            self.check_now()
        else:
            self._forget_results(restart=True)

    # ------------------------------------------------------------------ checks
    def check_now(self) -> None:
        """Run the checks for the current answers at once (not as a side effect)."""
        self._forget_results(restart=False)
        self.query_one(CheckRunner).run_now()

    def _forget_results(self, *, restart: bool) -> None:
        """Clear every result on screen: they describe answers that no longer hold."""
        self.query_one(CheckRunner).forget(restart=restart)
        self._results = {}
        self._checked = False
        for selector in set(FIELD_STATUS.values()):
            self.query_one(selector, FieldStatus).clear()
        self.query_one(CertTrustBox).hide()
        self.query_one(CheckList).reset()
        general = self.query_one("#es-general", FieldStatus)
        if restart and self.session.state.es_host.strip():
            general.show("running", "checks start when you stop typing…")
        else:
            general.clear()
        self.changed()

    @on(CheckRunner.Started)
    def _checks_started(self, message: CheckRunner.Started) -> None:
        message.stop()
        general = self.query_one("#es-general", FieldStatus)
        host = message.settings.get("host")
        if not host:
            general.show(
                "fail", "enter the endpoint of your cluster", "e.g. https://localhost:9200"
            )
        else:
            general.show("running", f"checking {ellipsize(host)}…")
        self.query_one(CheckList).begin(message.planned)
        self.changed()

    @on(CheckRunner.Result)
    def _check_result(self, message: CheckRunner.Result) -> None:
        message.stop()
        view = message.view
        self._results[view.id] = view
        self.query_one(CheckList).record(view)
        self._show_inline()

    @on(CheckRunner.Done)
    def _checks_done(self, message: CheckRunner.Done) -> None:
        from sluice.core.es.tls import trust_offer_applies

        message.stop()
        self._checked = True
        self._show_inline()
        tls = self._results.get("tls")
        host = self.session.state.es_host.strip()
        box = self.query_one(CertTrustBox)
        failed = bool(tls and tls.status == "fail")
        if trust_offer_applies(host, tls_failed=failed, field=tls.field if tls else None):
            box.offer(host)
        else:
            box.hide()
        self.changed()

    def _show_inline(self) -> None:
        """Put each finished result next to its field; the rest in the general line."""
        grouped: dict[str, list[tuple[str, str, str]]] = {}
        general: list[tuple[str, str, str]] = []
        for view in self._results.values():
            if view.status == "skip":
                continue
            item = (view.status, f"{view.title}: {view.message}", view.hint)
            selector = FIELD_STATUS.get(view.field or "")
            if selector and view.status in ("warn", "fail"):
                grouped.setdefault(selector, []).append(item)
            elif view.status in ("warn", "fail"):
                general.append(item)
        for selector in set(FIELD_STATUS.values()):
            status = self.query_one(selector, FieldStatus)
            if selector in grouped:
                status.show_many(grouped[selector])
            elif self._results:
                status.clear()
        host_status = self.query_one("#es-host-status", FieldStatus)
        connection = self._results.get("connection")
        if "#es-host-status" not in grouped and connection and connection.status == "ok":
            host_status.show("ok", connection.message)
        product = self._results.get("product")
        general_status = self.query_one("#es-general", FieldStatus)
        if general:
            general_status.show_many(general)
        elif self.query_one(CheckRunner).running:
            general_status.show("running", "checking…")
        elif product and product.status == "ok":
            general_status.show("ok", product.message)
        else:
            general_status.clear()

    # ------------------------------------------------------------------ certificate, sandbox
    @on(CertTrustBox.Pinned)
    def _pinned(self, message: CertTrustBox.Pinned) -> None:
        message.stop()
        state = self.session.state
        state.es_ca_certs, state.es_fingerprint = str(message.path), ""
        self._set_quietly(es_ca_certs=str(message.path))
        self._answers_changed()
        self.notify(f"Certificate saved to {message.path} and used as the CA file.")

    @on(SandboxOffer.Started)
    def _sandbox_started(self, message: SandboxOffer.Started) -> None:
        message.stop()
        sandbox, state = message.sandbox, self.session.state
        if state.is_done(1) and state.es_host != sandbox.url:
            state.forget_from(1)
        state.es_host, state.es_auth, state.es_ca_certs = sandbox.url, "none", ""
        self._set_quietly(es_host=sandbox.url, es_auth="none", es_ca_certs="")
        self._show_auth_rows()
        self.session.save()
        self.check_now()

    @on(SandboxOffer.Stopped)
    def _sandbox_stopped(self, message: SandboxOffer.Stopped) -> None:
        message.stop()
        self.check_now()

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        state = self.session.state
        if not state.es_host.strip():
            return "Enter the Elasticsearch endpoint."
        if state.es_auth == "api_key" and not self.session.es_api_key:
            return "Enter the API key (or pick another authentication)."
        if state.es_auth == "basic" and not (state.es_username and self.session.es_password):
            return "Enter the username and password."
        if not self._checked or self.query_one(CheckRunner).running:
            return "Checking the connection…"
        failed = [v for v in self._results.values() if v.status == "fail"]
        if failed:
            first = failed[0]
            where = "under the field" if first.field in FIELD_STATUS else "in Connection checks"
            return f"{first.title} failed — see the message {where}."
        return None

    async def commit(self) -> bool:
        self.session.save()
        return True

    def palette_commands(self) -> list:
        from sluice.tui.commands import PaletteCommand

        commands = [
            PaletteCommand(
                "Check the connection again", "Re-run the cluster checks", self.check_now
            ),
        ]
        if sandbox_available():
            commands.append(
                PaletteCommand(
                    "Start/stop the local sandbox",
                    "NOT FOR PRODUCTION",
                    lambda: self.query_one(SandboxOffer).toggle(),
                )
            )
        return commands
