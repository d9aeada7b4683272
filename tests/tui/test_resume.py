"""Quitting and rerunning resumes where the user left off; `--new` starts over; the saved
state never holds a secret."""

from __future__ import annotations

import pytest

from sluice.tui.app import SluiceApp
from sluice.tui.state import load_state, save_state, state_path
from tests.tui.conftest import SIZE, fill_elasticsearch, next_step, press_button, wait_for, wizard

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
        # the other steps are mounted after the first frame, one per frame
        await wait_for(pilot, lambda: screen.query("#es-host"), what="step 2 mounted")
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
        await press_button(pilot, "#sandbox-start")
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
    assert again.session.sandbox is None  # not before the first frame (issue 20)
    try:
        async with again.run_test(size=SIZE) as pilot:
            # restarted for the resumed setup, in a worker after mount
            await wait_for(pilot, lambda: again.session.loaded, timeout=60, what="session")
            assert again.session.sandbox is not None and again.session.sandbox.url == url
            await wait_for(pilot, lambda: "Step" in wizard(again).sub_title, what="the steps")
            await wait_for(pilot, lambda: wizard(again).query("#es-host"), what="step 2")
            assert wizard(again).query_one("#es-host").value == url
            again.session.stop_sandbox()
    finally:
        again.session.stop_sandbox()


def test_sandbox_keeps_its_port_and_data_across_start_over(tmp_path):
    """Issue 11 item 15: after `sluice --new` the sandbox came back on a new random port,
    leaving config.yml pointing at nothing."""
    from sluice.core import sandbox as sandboxes
    from sluice.core.sandbox import sandbox_available
    from sluice.tui.session import Session

    if not sandbox_available():
        pytest.skip("sandbox extra not installed")
    first = Session.open(tmp_path / "config.yml", start_over=True)
    sandbox = sandboxes.start_sandbox(
        first.sandbox_dir, port=first.state.sandbox_port, any_port_if_taken=True
    )
    url = sandbox.url
    first.sandbox = sandbox
    first.release_sandbox()
    fresh = Session.open(tmp_path / "config.yml", start_over=True)
    assert fresh.state.sandbox_port is None and fresh.sandbox_dir == first.sandbox_dir
    again = sandboxes.start_sandbox(
        fresh.sandbox_dir, port=fresh.state.sandbox_port, any_port_if_taken=True
    )
    try:
        assert again.url == url
    finally:
        sandboxes.stop_sandbox(again)


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


async def test_first_frame_comes_before_config_keyring_and_sandbox(tmp_path, monkeypatch):
    """Issue 20: a resumed setup draws the wizard (step list, what is loading) before
    config.yml and the keyring are read; its steps appear once that work is done."""
    import threading

    from sluice.tui.session import Session
    from sluice.tui.state import WizardState, save_state

    config = tmp_path / "config.yml"
    config.write_text("elasticsearch:\n  host: http://127.0.0.1:9\n  api_key: from-config\n")
    save_state(
        WizardState(
            step=1,
            completed=[0],
            es_host="http://127.0.0.1:9",
            config_written=True,
            service_type="dir",
        ),
        config,
    )
    gate = threading.Event()
    recover = Session._recover_secrets

    def slow_recover(session: Session) -> None:
        assert gate.wait(20), "the test never opened the gate"
        recover(session)

    monkeypatch.setattr(Session, "_recover_secrets", slow_recover)
    app = SluiceApp(str(config), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await wait_for(
            pilot,
            lambda: "config.yml" in str(screen.query_one("#nav-status").render()),
            what="the loading status",
        )
        assert not app.session.loaded and app.session.es_api_key == ""
        assert screen.query_one("#next").disabled and not screen.query("#es-host")
        gate.set()
        await wait_for(pilot, lambda: "Step 2" in screen.sub_title, what="the steps")
        assert app.session.es_api_key == "from-config"
        assert screen.current == 1 and screen.query_one("#es-api-key").value == "from-config"
