"""The "No cluster? Try a local sandbox" offer: starts and stops the sandbox (NOT FOR
PRODUCTION) and says where it runs. It owns the start worker and the session's sandbox;
its parent hears `Started(sandbox)` and `Stopped()` and fills in the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from sluice.core.sandbox import Sandbox, SandboxError, start_sandbox
from sluice.tui.widgets.badges import escape

if TYPE_CHECKING:
    from sluice.tui.session import Session

OFFER = "No cluster? Try a local sandbox (NOT FOR PRODUCTION)."


class SandboxOffer(Vertical):
    """Start/stop button and a note; shown only where the sandbox can run."""

    DEFAULT_CSS = """
    SandboxOffer { height: auto; background: $warning 10%; padding: 0 1; margin-bottom: 1; }
    SandboxOffer > Horizontal { height: auto; }
    SandboxOffer #sandbox-note { width: 1fr; color: $text-warning; }
    """

    class Started(Message):
        def __init__(self, sandbox: Sandbox) -> None:
            self.sandbox = sandbox
            super().__init__()

    class Stopped(Message):
        """The user stopped the sandbox."""

    class _Outcome(Message):
        def __init__(self, sandbox: Sandbox | None, error: str = "") -> None:
            self.sandbox, self.error = sandbox, error
            super().__init__()

    def __init__(self, session: Session, *, id: str | None = "sandbox-box") -> None:
        super().__init__(id=id)
        self.session = session

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(OFFER, id="sandbox-note")
            yield Button("Try it on this machine", id="sandbox-start", compact=True)

    def on_mount(self) -> None:
        if self.session.sandbox is not None:
            self._show_running(self.session.sandbox)

    @on(Button.Pressed, "#sandbox-start")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.toggle()

    def toggle(self) -> None:
        """Stop the running sandbox, or start one."""
        session = self.session
        if session.sandbox is None:
            self.start()
            return
        session.stop_sandbox()
        session.state.sandbox = False
        session.save()
        self.query_one("#sandbox-start", Button).label = "Try it on this machine"
        self.query_one("#sandbox-note", Static).update(
            "Sandbox stopped (its data stays in .sluice/sandbox)."
        )
        self.post_message(self.Stopped())

    def start(self) -> None:
        self.query_one("#sandbox-note", Static).update("Starting the local sandbox…")
        self.query_one("#sandbox-start", Button).disabled = True
        self._start(self.session.state.sandbox_port)

    @work(thread=True, exclusive=True, group="sandbox")
    def _start(self, port: int | None) -> None:
        try:
            # a port now held by another program: take a free one (saved, so later runs keep it)
            sandbox = start_sandbox(self.session.sandbox_dir, port=port, any_port_if_taken=True)
        except SandboxError as exc:
            self.post_message(self._Outcome(None, str(exc)))
            return
        self.post_message(self._Outcome(sandbox))

    @on(_Outcome)
    def _started(self, message: _Outcome) -> None:
        message.stop()
        self.query_one("#sandbox-start", Button).disabled = False
        state = self.session.state
        if message.sandbox is None:
            self.query_one("#sandbox-note", Static).update(
                f"The sandbox did not start: {escape(message.error)}"
            )
            state.sandbox = False
            self.session.save()
            return
        self.session.sandbox = message.sandbox
        state.sandbox, state.sandbox_port = True, message.sandbox.port
        self._show_running(message.sandbox)
        self.post_message(self.Started(message.sandbox))

    def _show_running(self, sandbox: Sandbox) -> None:
        self.query_one("#sandbox-note", Static).update(
            f"Sandbox running at {sandbox.url} — NOT FOR PRODUCTION (no security)."
        )
        self.query_one("#sandbox-start", Button).label = "Stop sandbox"
