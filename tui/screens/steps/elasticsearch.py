"""Step 2: where Elasticsearch is and how to log in — checked live as the user types.

A result belongs to the answers it was computed for. Each edit (a key, another
authentication method) clears every result on screen at once and restarts a short debounce
timer; then the cluster checks run in a worker that posts each result as a typed message
tagged with a generation number, and only results of the current generation are painted —
the moment they arrive, next to the field they concern (endpoint, credentials, CA file), with
the full list below. An untrusted https certificate is shown with its fingerprint for the
user to confirm and pin. "Try it on this machine" starts the local sandbox (NOT FOR
PRODUCTION).
"""

from __future__ import annotations

import re
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Input, Select, Static

from sluice.tui import services
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.check_list import CheckList, CheckView
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow
from sluice.tui.widgets.secret_input import SecretInput

DEBOUNCE_SECONDS = 0.6
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


class EsCheckResult(Message):
    def __init__(self, generation: int, view: CheckView) -> None:
        self.generation = generation
        self.view = view
        super().__init__()


class EsChecksDone(Message):
    def __init__(self, generation: int) -> None:
        self.generation = generation
        super().__init__()


class CertificateShown(Message):
    """The certificate an https endpoint presents, for the user to confirm."""

    def __init__(self, url: str, cert: services.CertInfo | None, error: str = "") -> None:
        self.url = url
        self.cert = cert
        self.error = error
        super().__init__()


class SandboxStarted(Message):
    def __init__(self, sandbox: services.Sandbox | None, error: str = "") -> None:
        self.sandbox = sandbox
        self.error = error
        super().__init__()


class ElasticsearchStep(Step):
    TITLE = "2. Elasticsearch"
    HELP = "Where your cluster answers and how Sluice logs in. Checked as you type."

    DEFAULT_CSS = """
    ElasticsearchStep #sandbox-box {
        height: auto; background: $warning 10%; padding: 0 1; margin-bottom: 1;
    }
    ElasticsearchStep #sandbox-box > Horizontal { height: auto; }
    ElasticsearchStep #sandbox-note { width: 1fr; color: $text-warning; }
    ElasticsearchStep #cert-box {
        height: auto; border: round $warning; padding: 0 1; display: none;
    }
    ElasticsearchStep #cert-box.-shown { display: block; }
    ElasticsearchStep #cert-box > Horizontal { height: auto; }
    ElasticsearchStep #es-general { margin-left: 0; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._debounce: Timer | None = None
        self._generation = 0
        self._checks_running = False
        self._checked = False
        self._results: dict[str, CheckView] = {}
        self._cert: services.CertInfo | None = None
        self._cert_url = ""

    def compose(self) -> ComposeResult:
        state = self.session.state
        yield from self.compose_intro()
        if services.sandbox_available():
            with Vertical(id="sandbox-box"), Horizontal():
                yield Static(
                    "No cluster? Try a local sandbox (NOT FOR PRODUCTION).",
                    id="sandbox-note",
                )
                yield Button("Try it on this machine", id="sandbox-start", compact=True)
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
        with Vertical(id="cert-box"):
            yield Static("", id="cert-details")
            with Horizontal():
                yield Button(
                    "Trust this certificate", id="cert-trust", variant="warning", compact=True
                )
                yield Static("  Only if the fingerprint matches what your cluster printed.")
        yield Static("Connection checks", classes="section")
        yield FieldStatus(id="es-general")
        yield CheckList(id="es-checks", empty="Checks run as soon as an endpoint is entered.")

    def on_mount(self) -> None:
        self._show_auth_rows()
        if self.session.sandbox is not None:
            self._show_sandbox_running(self.session.sandbox)
        if self.session.state.sandbox and self.session.sandbox is None:
            self._start_sandbox()
        elif self.session.state.es_host.strip():
            self.schedule_checks(now=True)

    # ------------------------------------------------------------------ edits
    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        """Record an edit; values equal to what is known (initial values) change nothing."""
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
            return
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

    def _answers_changed(self) -> None:
        state = self.session.state
        # Later steps were done against the old answers: they must be confirmed again.
        if state.is_done(1):
            state.forget_from(1)
        self.session.save()
        self.schedule_checks()

    def schedule_checks(self, now: bool = False) -> None:
        """Forget the results of the old answers now; check the new ones when typing pauses
        (debounce), or at once."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._forget_results()
        self.changed()
        if now:
            self._run_checks()
        else:
            generation = self._generation
            self._debounce = self.set_timer(DEBOUNCE_SECONDS, lambda: self._debounced(generation))

    def _debounced(self, generation: int) -> None:
        """The pause after an edit is over; a timer event queued before a newer edit (a
        stopped timer can still deliver one) starts nothing."""
        if generation == self._generation:
            self._run_checks()

    def _forget_results(self) -> None:
        """Clear every result on screen and stop the run computing them: they describe
        answers that no longer hold. A result already on its way is dropped on arrival (its
        generation is old)."""
        self._generation += 1
        self.workers.cancel_group(self, "es-checks")
        self._results = {}
        self._checks_running = False
        self._checked = False
        for selector in set(FIELD_STATUS.values()):
            self.query_one(selector, FieldStatus).clear()
        self.query_one("#cert-box").remove_class("-shown")
        self.query_one(CheckList).reset()
        general = self.query_one("#es-general", FieldStatus)
        if self.session.state.es_host.strip():
            general.show("running", "checks start when you stop typing…")
        else:
            general.clear()

    # ------------------------------------------------------------------ checks
    def _run_checks(self) -> None:
        self._debounce = None
        self._generation += 1
        self._results = {}
        settings = self.session.es_settings()
        for selector in set(FIELD_STATUS.values()):
            self.query_one(selector, FieldStatus).clear()
        general = self.query_one("#es-general", FieldStatus)
        if not settings["host"]:
            self._checks_running = False
            general.show(
                "fail", "enter the endpoint of your cluster", "e.g. https://localhost:9200"
            )
            self.query_one(CheckList).begin([])
            self.changed()
            return
        self._checks_running = True
        general.show("running", f"checking {services.ellipsize(settings['host'])}…")
        planned = [
            (check_id, title)
            for check_id, title in services.planned_checks(settings)
            if check_id not in STEP_6_CHECKS
        ]
        self.query_one(CheckList).begin(planned)
        self._checks_worker(self._generation, settings)
        self.changed()

    @work(exclusive=True, group="es-checks")
    async def _checks_worker(self, generation: int, settings: dict) -> None:
        async for result in services.run_checks(settings):
            if result.id not in STEP_6_CHECKS:
                view = as_shown(CheckView.from_result(result))
                self.post_message(EsCheckResult(generation, view))
        self.post_message(EsChecksDone(generation))

    def on_es_check_result(self, message: EsCheckResult) -> None:
        if message.generation != self._generation:
            return  # computed for answers that have changed since
        view = message.view
        self._results[view.id] = view
        self.query_one(CheckList).record(view)
        self._show_inline()

    def on_es_checks_done(self, message: EsChecksDone) -> None:
        if message.generation != self._generation:
            return
        self._checks_running = False
        self._checked = True
        self._show_inline()
        self._maybe_offer_certificate()
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
        elif self._checks_running:
            general_status.show("running", "checking…")
        elif product and product.status == "ok":
            general_status.show("ok", product.message)
        else:
            general_status.clear()

    # ------------------------------------------------------------------ certificate
    def _maybe_offer_certificate(self) -> None:
        tls = self._results.get("tls")
        host = self.session.state.es_host.strip()
        box = self.query_one("#cert-box")
        if tls and tls.status == "fail" and host.startswith("https") and tls.field == "ca_certs":
            self._fetch_certificate(host)
        else:
            box.remove_class("-shown")

    @work(exclusive=True, group="es-cert")
    async def _fetch_certificate(self, url: str) -> None:
        try:
            chain = await services.certificate_chain(url)
        except services.CertificateError as exc:
            self.post_message(CertificateShown(url, None, str(exc)))
            return
        # Trust the top of the chain the server sent (its CA when it sends one).
        self.post_message(CertificateShown(url, chain[-1] if chain else None))

    def on_certificate_shown(self, message: CertificateShown) -> None:
        if not self._checked or message.url != self.session.state.es_host.strip():
            return  # fetched for answers that have changed since
        box = self.query_one("#cert-box")
        details = self.query_one("#cert-details", Static)
        self._cert, self._cert_url = message.cert, message.url
        if message.cert is None:
            details.update(f"Could not read the certificate: {escape(message.error)}")
            self.query_one("#cert-trust", Button).disabled = True
        else:
            cert = message.cert
            kind = "CA certificate" if cert.is_ca else "server certificate (self-signed)"
            details.update(
                f"[b]The cluster presents a {kind} this machine does not trust:[/b]\n"
                f"  Subject: {escape(cert.subject)}\n"
                f"  Valid until: {cert.not_after:%Y-%m-%d}\n"
                f"  SHA-256: [b]{escape(cert.sha256_fingerprint)}[/b]"
            )
            self.query_one("#cert-trust", Button).disabled = False
        box.add_class("-shown")

    @on(Button.Pressed, "#cert-trust")
    def _trust(self) -> None:
        if self._cert is not None:
            self._pin(self._cert_url, self._cert.sha256_fingerprint)

    @work(exclusive=True, group="es-cert")
    async def _pin(self, url: str, fingerprint: str) -> None:
        dest = self.session.state_file.parent / "http_ca.pem"
        try:
            path = await services.pin_certificate(url, fingerprint, dest)
        except services.CertificateError as exc:
            self.notify(str(exc), title="Not trusted", severity="error")
            return
        self.query_one("#cert-box").remove_class("-shown")
        state = self.session.state
        state.es_ca_certs, state.es_fingerprint = str(path), ""
        ca_input = self.query_one("#es-ca-certs", Input)
        with ca_input.prevent(Input.Changed):
            ca_input.value = str(path)
        self._answers_changed()
        self.notify(f"Certificate saved to {path} and used as the CA file.")

    # ------------------------------------------------------------------ sandbox
    @on(Button.Pressed, "#sandbox-start")
    def _sandbox_pressed(self) -> None:
        if self.session.sandbox is not None:
            self.session.stop_sandbox()
            self.session.state.sandbox = False
            self.session.save()
            self.query_one("#sandbox-start", Button).label = "Try it on this machine"
            self.query_one("#sandbox-note", Static).update(
                "Sandbox stopped (its data stays in .sluice/sandbox)."
            )
            self.schedule_checks(now=True)
            return
        self._start_sandbox()

    def _start_sandbox(self) -> None:
        self.query_one("#sandbox-note", Static).update("Starting the local sandbox…")
        self.query_one("#sandbox-start", Button).disabled = True
        self._sandbox_worker(self.session.state.sandbox_port)

    @work(thread=True, exclusive=True, group="sandbox")
    def _sandbox_worker(self, port: int | None) -> None:
        try:
            sandbox = services.start_sandbox(self.session.sandbox_dir, port=port)
        except services.SandboxError as exc:
            self.post_message(SandboxStarted(None, str(exc)))
            return
        self.post_message(SandboxStarted(sandbox))

    def _show_sandbox_running(self, sandbox: services.Sandbox) -> None:
        self.query_one("#sandbox-note", Static).update(
            f"Sandbox running at {sandbox.url} — NOT FOR PRODUCTION (no security)."
        )
        self.query_one("#sandbox-start", Button).label = "Stop sandbox"

    def on_sandbox_started(self, message: SandboxStarted) -> None:
        button = self.query_one("#sandbox-start", Button)
        note = self.query_one("#sandbox-note", Static)
        button.disabled = False
        if message.sandbox is None:
            note.update(f"The sandbox did not start: {escape(message.error)}")
            self.session.state.sandbox = False
            self.session.save()
            return
        sandbox = message.sandbox
        self.session.sandbox = sandbox
        state = self.session.state
        state.sandbox, state.sandbox_port = True, sandbox.port
        self._show_sandbox_running(sandbox)
        if state.is_done(1) and state.es_host != sandbox.url:
            state.forget_from(1)
        state.es_host, state.es_auth, state.es_ca_certs = sandbox.url, "none", ""
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#es-host", Input).value = sandbox.url
            self.query_one("#es-auth", Select).value = "none"
            self.query_one("#es-ca-certs", Input).value = ""
        self._show_auth_rows()
        self.session.save()
        self.schedule_checks(now=True)

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        state = self.session.state
        if not state.es_host.strip():
            return "Enter the Elasticsearch endpoint."
        if state.es_auth == "api_key" and not self.session.es_api_key:
            return "Enter the API key (or pick another authentication)."
        if state.es_auth == "basic" and not (state.es_username and self.session.es_password):
            return "Enter the username and password."
        if self._checks_running or not self._checked:
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
                "Check the connection again",
                "Re-run the cluster checks",
                lambda: self.schedule_checks(now=True),
            ),
        ]
        if services.sandbox_available():
            commands.append(
                PaletteCommand(
                    "Start/stop the local sandbox", "NOT FOR PRODUCTION", self._sandbox_pressed
                )
            )
        return commands
