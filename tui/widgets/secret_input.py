"""An Input for secrets: masked, and its value can't leave through copy or cut.

Textual's `Input(password=True)` only masks the display: select-all then ctrl+c still copies
the plaintext to the clipboard. Here copy and cut are disabled and text selection is off.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class SecretInput(Input):
    """A password Input whose value can be typed or pasted in, never copied out."""

    ALLOW_SELECT = False

    DEFAULT_CSS = """
    SecretInput { width: 1fr; }
    """

    def __init__(
        self, value: str | None = None, *, multiline: bool = False, **kwargs: object
    ) -> None:
        kwargs.setdefault("password", True)
        super().__init__(value, **kwargs)  # type: ignore[arg-type]
        #: Keeps a pasted text whole, newlines included (a PEM certificate or key); a plain
        #: Input keeps only its first line.
        self.multiline = multiline

    def _on_paste(self, event: events.Paste) -> None:
        # Textual runs each class's `_on_paste` in turn: Input's keeps the first line,
        # unless prevented here
        # terminals send a paste's line breaks as CR, LF or both: all mean a new line
        text = event.text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not self.multiline or "\n" not in text:
            return
        event.prevent_default()
        event.stop()
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)

    def action_copy(self) -> None:
        self.notify("Copying a secret is disabled.", severity="warning", timeout=3)

    def action_cut(self) -> None:
        self.notify("Cutting a secret is disabled.", severity="warning", timeout=3)

    def get_selected_text(self) -> str | None:
        return None

    def __repr__(self) -> str:
        return f"SecretInput(id={self.id!r}, value=<{len(self.value)} chars hidden>)"
