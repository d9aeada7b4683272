"""Quitting and rerunning resumes where the user left off; `--new` starts over; the saved
state never holds a secret."""

from __future__ import annotations

import pytest

from sluice.tui.app import SluiceApp
from sluice.tui.state import load_state, save_state, state_path
from tests.tui.conftest import SIZE, fill_elasticsearch, next_step, wait_for, wizard

pytestmark = pytest.mark.es


async def test_quit_and_rerun_resumes_at_the_same_step(tmp_path, es_config):
    config = str(tmp_path / "config.yml")
    app = SluiceApp(config, start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        wizard(app).steps[0].choose("dir")
        await next_step(pilot, app)
        await fill_elasticsearch(pilot, app, es_config)
        await next_step(pilot, app)
        assert wizard(app).current == 2
        await pilot.press("ctrl+q")

    again = SluiceApp(config, test_mode=True)
    async with again.run_test(size=SIZE) as pilot:
        screen = wizard(again)
        await wait_for(pilot, lambda: screen.current == 2, what="resumed step")
        steps = screen.query_one("#step-list")
        assert steps.status_text(0) == "done"
        assert steps.status_text(1) == "done"
        assert steps.status_text(2) == "current"
        assert screen.query_one("#es-host").value == es_config["host"]
        # back is always allowed, and the answers are still there
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: screen.current == 1, what="back")

    fresh = SluiceApp(config, start_over=True, test_mode=True)
    async with fresh.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert wizard(fresh).current == 0
        assert fresh.session.state.completed == []


async def test_state_file_never_holds_the_api_key(tmp_path, es_config):
    secret = "c2x1aWNlLXNlY3JldC1rZXk6dmVyeS1zZWNyZXQ="
    config = str(tmp_path / "config.yml")
    app = SluiceApp(config, start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        wizard(app).steps[0].choose("dir")
        await next_step(pilot, app)
        screen = wizard(app)
        screen.query_one("#es-host").value = es_config["host"]
        screen.query_one("#es-auth").value = "api_key"
        await pilot.pause()
        screen.query_one("#es-api-key").focus()
        await pilot.press(*secret)
        await wait_for(pilot, lambda: app.session.es_api_key == secret, what="key typed")
        app.session.save()
    text = state_path(config).read_text()
    assert secret not in text
    assert load_state(config).es_auth == "api_key"


def test_save_state_refuses_secret_fields(tmp_path):
    state = load_state(tmp_path / "config.yml")
    state.__dict__["es_password"] = "hunter2"
    with pytest.raises(ValueError, match="must not hold secrets"):
        save_state(state, tmp_path / "config.yml")


def test_corrupt_state_file_starts_fresh(tmp_path):
    path = state_path(tmp_path / "config.yml")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    state = load_state(tmp_path / "config.yml")
    assert state.step == 0 and state.completed == []


async def test_sandbox_from_the_wizard_and_back_on_resume(tmp_path):
    from sluice.core.sandbox import find_sandbox, sandbox_available

    if not sandbox_available():
        pytest.skip("sandbox extra not installed")
    config = str(tmp_path / "config.yml")
    app = SluiceApp(config, start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        wizard(app).steps[0].choose("dir")
        await next_step(pilot, app)
        screen = wizard(app)
        await pilot.click("#sandbox-start")
        await wait_for(pilot, lambda: app.session.sandbox is not None, timeout=60, what="sandbox")
        url = app.session.sandbox.url
        assert screen.query_one("#es-host").value == url
        note = screen.query_one("#sandbox-note")
        assert "NOT FOR PRODUCTION" in str(note.render())
        await next_step(pilot, app)  # the checks pass against the sandbox
        await pilot.press("ctrl+q")
    assert app.session.sandbox is None  # stopped with the app
    assert find_sandbox(app.session.sandbox_dir) is None  # the server process is gone

    again = SluiceApp(config, test_mode=True)
    try:
        assert again.session.sandbox is not None  # restarted for the resumed setup
        assert again.session.sandbox.url == url
    finally:
        again.session.stop_sandbox()


def test_sandbox_keeps_its_port_and_data_across_start_over(tmp_path):
    """Issue 11 item 15: after `sluice --new` the sandbox came back on a new random port,
    leaving config.yml pointing at nothing."""
    from sluice.core.sandbox import sandbox_available
    from sluice.tui import services
    from sluice.tui.session import Session

    if not sandbox_available():
        pytest.skip("sandbox extra not installed")
    first = Session.open(tmp_path / "config.yml", start_over=True)
    sandbox = services.start_sandbox(first.sandbox_dir, port=first.state.sandbox_port)
    url = sandbox.url
    first.sandbox = sandbox
    first.release_sandbox()
    fresh = Session.open(tmp_path / "config.yml", start_over=True)
    assert fresh.state.sandbox_port is None and fresh.sandbox_dir == first.sandbox_dir
    again = services.start_sandbox(fresh.sandbox_dir, port=fresh.state.sandbox_port)
    try:
        assert again.url == url
    finally:
        services.stop_sandbox(again)


async def test_sigterm_ends_the_app_cleanly(tmp_path):
    import os
    import signal

    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert signal.SIGTERM in app._installed_signals
        os.kill(os.getpid(), signal.SIGTERM)
        await pilot.pause(0.5)
    assert app.return_code == 128 + signal.SIGTERM
