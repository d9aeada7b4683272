"""A modal that reads something in a worker, then shows it: the preview's dry run and the
explainer's findings share this frame.

The read runs in an exclusive worker (reading again replaces a read still running) and its
outcome comes back as a typed message, so the screen paints only on its own thread. A failed
read shows one line naming the error, never a traceback.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from sluice.tui.widgets.badges import escape

Result = TypeVar("Result")


class ReadingModal(ModalScreen[None], Generic[Result]):
    """Title, a body the subclass composes, a line of keys; `read()` fills the body."""

    BINDINGS: ClassVar = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    ReadingModal { align: center middle; }
    ReadingModal > Vertical {
        width: 90%; max-width: 110; height: 85%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ReadingModal.-narrow > Vertical { width: 100%; height: 100%; }
    ReadingModal .reading-title { text-style: bold; height: auto; }
    ReadingModal .reading-keys { height: 1; color: $text-muted; }
    """
    #: The prefix of the widgets' ids (`{ID_PREFIX}-title`, `{ID_PREFIX}-keys`).
    ID_PREFIX: ClassVar[str] = "reading"
    #: The keys line under the body.
    KEYS: ClassVar[str] = "Escape closes"
    #: What the error line starts with: "Cannot preview", "Cannot explain".
    FAILED: ClassVar[str] = "Cannot read"

    class Done(Message):
        """A read's outcome: the result, or the one line that says why there is none."""

        def __init__(self, result: Any, error: str = "") -> None:
            self.result = result
            self.error = error
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.result: Result | None = None

    # ------------------------------------------------------------------ to fill in
    def heading(self) -> str:
        """The title line (plain text)."""
        raise NotImplementedError

    def compose_body(self) -> ComposeResult:
        """The widgets between the title and the keys."""
        raise NotImplementedError

    def reading(self) -> None:
        """Say in the body that a read is under way."""
        raise NotImplementedError

    async def read(self) -> Result:
        """Read what the modal shows (in a worker); raise to show the error instead."""
        raise NotImplementedError

    def failure(self, exc: Exception) -> str:
        """The error line's words for a failed read."""
        return f"{type(exc).__name__}: {exc}"

    def show(self, result: Result) -> None:
        """Paint a result."""
        raise NotImplementedError

    def show_error(self, markup: str) -> None:
        """Paint the error line (already markup)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the frame
    def compose(self) -> ComposeResult:
        prefix = self.ID_PREFIX
        with Vertical():
            yield Static(
                self.heading(), id=f"{prefix}-title", classes="reading-title", markup=False
            )
            yield from self.compose_body()
            yield Static(self.KEYS, id=f"{prefix}-keys", classes="reading-keys")

    def on_mount(self) -> None:
        self.read_again()

    def action_close(self) -> None:
        self.dismiss(None)

    def read_again(self) -> None:
        """Start a read, replacing one under way."""
        self.result = None
        self.reading()
        self._read()

    @work(exclusive=True, group="reading-modal")
    async def _read(self) -> None:
        try:
            result = await self.read()
        except Exception as exc:  # an unknown id, an unreachable cluster: said, not raised
            self.post_message(self.Done(None, self.failure(exc)))
            return
        self.post_message(self.Done(result))

    def on_reading_modal_done(self, message: ReadingModal.Done) -> None:
        message.stop()
        if message.result is None:
            self.show_error(f"[b $text-error]✖ {self.FAILED}:[/] {escape(message.error)}")
            return
        self.result = message.result
        self.show(message.result)
