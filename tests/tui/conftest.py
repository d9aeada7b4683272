"""Helpers to drive the wizard with Pilot against the real local servers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sluice.tui.app import SluiceApp
from sluice.tui.screens.wizard import WizardScreen
from tests.leftovers import UNIQUE_TOKENS
from tests.servers.fixtures import *  # noqa: F403 - nginx_url, tls_urls, ...

SIZE = (100, 34)


@pytest.fixture(autouse=True)
def steps_shown_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test starts where a user does: once the wizard's steps are on screen.

    The wizard mounts its seven steps just after its first frame (issue 20); a fresh setup
    shows them about half a second later. Tests of a resumed setup, whose loading they
    watch themselves, are left at the first frame.
    """
    original = SluiceApp.run_test

    @contextlib.asynccontextmanager
    async def run_test(self: SluiceApp, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        fresh = self.session.loaded
        async with original(self, *args, **kwargs) as pilot:
            screen = self.screen
            if fresh and isinstance(screen, WizardScreen):
                await wait_for(pilot, lambda: screen.shown_step is not None, what="the steps")
            yield pilot

    monkeypatch.setattr(SluiceApp, "run_test", run_test)


async def wait_for(
    pilot: Any, predicate: Callable[[], Any], timeout: float = 20.0, what: str = ""
) -> Any:
    """Pause the pilot until `predicate()` is truthy (or fail after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


async def press_button(pilot: Any, selector: str, timeout: float = 20.0) -> None:
    """Press a button as a user would once it is on screen and enabled — by the widget, not
    a screen position: a toast sliding over the spot must not eat the click."""
    from textual.widgets import Button

    def usable() -> Button | None:
        found = pilot.app.screen.query(selector)
        button = found.first() if found else None
        if isinstance(button, Button) and button.display and not button.disabled:
            return button
        return None

    button = await wait_for(pilot, usable, timeout, f"{selector} to be pressable")
    button.focus()
    await pilot.pause()
    button.press()
    await pilot.pause()


def wizard(app: SluiceApp) -> WizardScreen:
    screen = app.screen
    assert isinstance(screen, WizardScreen), screen
    return screen


async def ready(pilot: Any, app: SluiceApp, timeout: float = 20.0) -> WizardScreen:
    """Wait until the current step allows Next (after pending edits are handled)."""
    screen = wizard(app)
    await pilot.pause()
    await wait_for(
        pilot,
        lambda: screen.shown_step is not None and not screen.busy and screen.step.blocker() is None,
        timeout,
        f"step {screen.current + 1} to be ready (blocker: {screen.step.blocker()})",
    )
    return screen


async def next_step(pilot: Any, app: SluiceApp, timeout: float = 30.0) -> WizardScreen:
    """Press Next (ctrl+n) and wait for the next step to show."""
    screen = await ready(pilot, app)
    before = screen.current
    await pilot.press("ctrl+n")
    await wait_for(
        pilot, lambda: screen.current == before + 1, timeout, f"leaving step {before + 1}"
    )
    await pilot.pause(0.1)
    return screen


def text_of(widget: Any) -> str:
    """What a Static-like widget shows, as plain text."""
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


async def fill_elasticsearch(pilot: Any, app: SluiceApp, es_config: dict[str, Any]) -> None:
    """Step 2 answers for the cluster under test (the stand-in or SLUICE_ES_* settings)."""
    screen = wizard(app)
    screen.query_one("#es-host").value = es_config["host"]
    if es_config.get("api_key"):
        screen.query_one("#es-auth").value = "api_key"
        await pilot.pause()
        screen.query_one("#es-api-key").value = es_config["api_key"]
    elif es_config.get("username"):
        screen.query_one("#es-auth").value = "basic"
        await pilot.pause()
        screen.query_one("#es-username").value = es_config["username"]
        screen.query_one("#es-password").value = es_config.get("password", "")
    else:
        screen.query_one("#es-auth").value = "none"
    if es_config.get("ca_certs"):
        screen.query_one("#es-ca-certs").value = es_config["ca_certs"]


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A small folder for the `dir` source."""
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "readme.md").write_text("# Sluice\nSync everything.\n")
    (folder / "notes.txt").write_text("river gauge notes\n")
    (folder / "sub" / "data.json").write_text('{"station": "A1", "level": 3.2}\n')
    return folder


@pytest.fixture
def unique() -> str:
    """A token for names of this test's records; connectors named with it are deleted at
    the end of the session."""
    token = uuid.uuid4().hex[:8]
    UNIQUE_TOKENS.add(token)
    return token
