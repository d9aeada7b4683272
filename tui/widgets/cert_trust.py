"""The "trust this certificate?" box: an https endpoint's untrusted certificate, shown with
its fingerprint for the user to confirm, and pinned as the CA file when they do.

The box owns its fetch and its pin (workers); it tells its parent `Pinned(path)`. A result
fetched for an endpoint that has changed since (`hide()` was called) is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from sluice.tui.widgets.badges import escape

if TYPE_CHECKING:  # core.es.tls (and cryptography) load when a certificate is looked at
    from sluice.core.es.tls import CertInfo


class CertTrustBox(Vertical):
    """Hidden until `offer(url)`; "Trust this certificate" pins it into `dest`."""

    DEFAULT_CSS = """
    CertTrustBox { height: auto; border: round $warning; padding: 0 1; display: none; }
    CertTrustBox.-shown { display: block; }
    CertTrustBox > Horizontal { height: auto; }
    """

    class Pinned(Message):
        """The user trusted the certificate; it is saved at `path`."""

        def __init__(self, path: Path) -> None:
            self.path = path
            super().__init__()

    class _Fetched(Message):
        def __init__(self, generation: int, url: str, cert: CertInfo | None, error: str) -> None:
            self.generation, self.url, self.cert, self.error = generation, url, cert, error
            super().__init__()

    def __init__(self, dest: Path, *, id: str | None = "cert-box") -> None:
        super().__init__(id=id)
        self.dest = dest
        self._generation = 0
        self._cert: CertInfo | None = None
        self._url = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="cert-details")
        with Horizontal():
            yield Button("Trust this certificate", id="cert-trust", variant="warning", compact=True)
            yield Static("  Only if the fingerprint matches what your cluster printed.")

    def offer(self, url: str) -> None:
        """Fetch the certificate `url` presents and show it (in a worker)."""
        self._generation += 1
        self._fetch(self._generation, url)

    def hide(self) -> None:
        """The endpoint or its checks changed: hide, and drop a fetch still on its way."""
        self._generation += 1
        self.remove_class("-shown")

    @work(exclusive=True, group="cert-fetch")
    async def _fetch(self, generation: int, url: str) -> None:
        from sluice.core.es.tls import (
            CertificateError,
            certificate_to_offer,
            fetch_certificate_chain,
        )

        try:
            chain = await fetch_certificate_chain(url)
        except CertificateError as exc:
            self.post_message(self._Fetched(generation, url, None, str(exc)))
            return
        self.post_message(self._Fetched(generation, url, certificate_to_offer(chain), ""))

    @on(_Fetched)
    def _show(self, message: _Fetched) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # fetched for answers that have changed since
        details = self.query_one("#cert-details", Static)
        self._cert, self._url = message.cert, message.url
        trust = self.query_one("#cert-trust", Button)
        if message.cert is None:
            details.update(f"Could not read the certificate: {escape(message.error)}")
            trust.disabled = True
        else:
            cert = message.cert
            kind = "CA certificate" if cert.is_ca else "server certificate (self-signed)"
            details.update(
                f"[b]The cluster presents a {kind} this machine does not trust:[/b]\n"
                f"  Subject: {escape(cert.subject)}\n"
                f"  Valid until: {cert.not_after:%Y-%m-%d}\n"
                f"  SHA-256: [b]{escape(cert.sha256_fingerprint)}[/b]"
            )
            trust.disabled = False
        self.add_class("-shown")

    @on(Button.Pressed, "#cert-trust")
    def _trust(self, event: Button.Pressed) -> None:
        event.stop()
        if self._cert is not None:
            self._pin(self._url, self._cert.sha256_fingerprint)

    @work(exclusive=True, group="cert-pin")
    async def _pin(self, url: str, fingerprint: str) -> None:
        from sluice.core.es.tls import CertificateError, pin_certificate

        try:
            path = await pin_certificate(url, fingerprint, self.dest)
        except CertificateError as exc:
            self.notify(str(exc), title="Not trusted", severity="error")
            return
        self.hide()
        self.post_message(self.Pinned(path))
