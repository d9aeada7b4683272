"""Keys typed in one burst act in the order they were typed.

A terminal hands over several keys at once when they come faster than the app reads them: a
fast typist, key repeat, a paste without bracketed-paste mode, a multiplexer, a laggy SSH
link. Textual inserts a character as soon as the focused field reads it, but runs a key
*binding* only once the key has bubbled up to the app, message queue by message queue. So
in one burst the bindings ran after the characters typed after them:

- "name<Tab>text" put "text" in the first field (Tab moved the focus late);
- "abc⌫⌫XY" left "abc" (the Backspaces deleted "XY");
- "ctrl+u" then a URL left the field empty (the line was cleared after the URL went in).

Two fixes, both in the app: Tab and Shift+Tab are priority bindings (the app reads them in
order and moves the focus at once); a text field's own editing keys (Backspace, arrows,
Home/End, ctrl+u/k/w...) run in the field's own queue, right after the key itself, so in
order with the characters around them.
"""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, TextArea

#: Tab and Shift+Tab move the focus as soon as the app reads them.
FOCUS_KEYS = [
    Binding("tab", "focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
]
#: The fields whose editing keys are bindings of their own.
TEXT_FIELDS = (Input, TextArea)


class KeysInOrder(App):
    """Mixin for Sluice's apps: a text field's editing keys run in order (module docstring)."""

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            field = self._field_binding(event)
            if field is not None and not await self._check_bindings(event.key, priority=True):
                event._sluice_in_field = True  # type: ignore[attr-defined]  # see _on_key
                field._forward_event(event)  # the field sees the key (cursor blink, etc.)
                field.call_later(self._run_field_binding, field, event.key)
                return
        await super().on_event(event)

    def _field_binding(self, event: events.Key) -> Widget | None:
        """The focused text field, when `event` is one of its own editing keys."""
        field = self.focused
        if event.is_printable or not isinstance(field, TEXT_FIELDS):
            return None
        bindings = field._bindings.key_to_bindings.get(event.key, ())
        return field if any(not binding.priority for binding in bindings) else None

    async def _run_field_binding(self, field: Widget, key: str) -> None:
        """In the field's queue, just after the key: its binding, as Textual would run it
        (the field's own first; if none runs, those of the screen and the app)."""
        for binding in field._bindings.key_to_bindings.get(key, ()):
            if not binding.priority and await self.run_action(binding.action, field):
                return
        await self._check_bindings(key)

    async def _on_key(self, event: events.Key) -> None:
        """The key bubbled up to the app: its binding runs in the field's queue instead."""
        if getattr(event, "_sluice_in_field", False):
            event.prevent_default()  # App's own handler would run the binding again
