"""Keys typed faster than the screen handles them keep their order: "name<Tab>text" or
"abc⌫⌫XY" typed in one burst (a fast typist, key repeat, a laggy SSH link, a terminal
multiplexer) lands as typed (`tui/keys_in_order.py`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from sluice.tui.app import SluiceApp
from sluice.tui.state import WizardState, save_state
from tests.tui.conftest import SIZE, wait_for, wizard


def burst(app: SluiceApp, keys: list[str]) -> None:
    """Post keys to the app as a terminal's bytes arrive: all at once, no pause."""
    for key in keys:
        character = key if len(key) == 1 else ("\t" if key == "tab" else None)
        app.post_message(events.Key(key, character))


@contextlib.asynccontextmanager
async def name_field_focused(tmp_path: Path) -> AsyncIterator[tuple[SluiceApp, Any, Input]]:
    """The wizard at step 3 (against a closed port), its Name field empty and focused."""
    config = tmp_path / "config.yml"
    state = WizardState(
        step=2,
        completed=[0, 1],
        service_type="dir",
        es_host="http://127.0.0.1:9",
        es_auth="none",
        config_path=str(config),
    )
    save_state(state, config)
    app = SluiceApp(str(config), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await wait_for(pilot, lambda: screen.shown_step == 2, what="step 3")
        # the step focuses its first field after a refresh; under load that can come late
        await wait_for(pilot, lambda: app.focused is not None, what="the step's first field")
        name = screen.query_one("#connector-name", Input)
        name.value = ""
        name.focus()
        await wait_for(pilot, lambda: app.focused is name, what="the name field focused")
        yield app, pilot, name


async def test_tab_in_a_burst_moves_on_before_the_next_keys(tmp_path):
    async with name_field_focused(tmp_path) as (app, pilot, name):
        description = wizard(app).query_one("#connector-description", Input)
        burst(app, [*"wiki", "tab", *"notes"])
        await wait_for(
            pilot,
            lambda: len(description.value) >= 5,
            what=f"the burst handled (focus was on {app.focused!r} before it)",
        )
        assert (name.value, description.value) == ("wiki", "notes")
        burst(app, ["shift+tab", *"!"])  # back: the field's text selected, then replaced
        await wait_for(pilot, lambda: name.value == "!", what="shift+tab first")
        assert description.value == "notes"


async def test_editing_keys_in_a_burst_act_where_they_were_typed(tmp_path):
    """Backspace, arrows, Home and ctrl+u/ctrl+k are the field's own bindings: in one burst
    they act between the characters around them, not after them."""
    cases = [
        ("", [*"abc", "backspace", "backspace", *"XY"], "aXY"),
        ("", [*"abc", "left", "left", *"XY"], "aXYbc"),
        ("", [*"wiki", "home", *"my "], "my wiki"),
        ("stale", ["ctrl+u", *"fresh"], "fresh"),  # the cursor at the end: all of it goes
        ("", [*"old", "ctrl+a", "ctrl+k", *"new"], "new"),
    ]
    async with name_field_focused(tmp_path) as (app, pilot, name):
        for before, keys, expected in cases:
            name.value = before
            name.cursor_position = len(before)
            await pilot.pause()
            burst(app, keys)
            await wait_for(
                pilot,
                lambda expected=expected: name.value == expected,
                timeout=5,
                what=f"{keys} after {before!r} to read {expected!r}",
            )
