"""What every wizard step is: a scrollable pane that says what blocks "Next" and does its
work (create, write, save) when the user moves on."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from sluice.core.invocation import sluice_command

if TYPE_CHECKING:
    from sluice.tui.session import Session


class Step(VerticalScroll):
    """Base of the seven steps. Subclasses compose below `compose_intro()`."""

    TITLE: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    NEXT_LABEL: ClassVar[str] = "Next"

    #: Unscoped: the narrow/short rules key on the screen's breakpoint classes.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    Step { height: 1fr; padding: 0 1 0 2; }
    Step > .step--title { text-style: bold; color: $text-primary; margin-top: 1; }
    Step > .step--help { color: $text-muted; margin-bottom: 1; }
    Step .section { text-style: bold; margin-top: 1; }
    Step .field-label { margin-top: 1; }
    Step .field-label.-required { }
    Step Input, Step Select { width: 1fr; max-width: 80; }
    Step .row { height: auto; width: 1fr; }
    Step .row > Button { margin-left: 1; }
    Step .note { color: $text-muted; }
    Step .danger { color: $text-warning; text-style: bold; }
    Screen.-narrow Step { padding: 0 0 0 1; }
    Screen.-short Step > .step--help { margin-bottom: 0; }
    """

    class Changed(Message):
        """Something changed that may unblock or block "Next"."""

    def __init__(self, session: Session) -> None:
        super().__init__(id=f"step-{self.key}")
        self.session = session

    @property
    def key(self) -> str:
        return type(self).__name__.removesuffix("Step").lower()

    def compose_intro(self) -> ComposeResult:
        yield Static(self.TITLE, classes="step--title")
        if self.HELP:
            # "{sluice}" becomes the command that works here (`.venv/bin/sluice` off PATH)
            text = self.HELP.replace("{sluice}", sluice_command())
            yield Static(text, classes="step--help")

    # ------------------------------------------------------------------ the contract
    def blocker(self) -> str | None:
        """Why "Next" is not allowed yet, in words; None when the step is complete."""
        return None

    async def commit(self) -> bool:
        """Do the step's work when the user presses Next; False keeps the user here."""
        return True

    def on_enter(self) -> None:
        """Called each time the step is shown (refresh from the session)."""

    def changed(self) -> None:
        self.post_message(self.Changed())

    def palette_commands(self) -> list:
        """Extra command-palette entries while this step is shown."""
        return []
