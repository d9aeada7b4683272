"""The wizard with a canary Elasticsearch password (non-ASCII, as users type them): every
screen it draws, the wizard state, config.yml and its backup, the records it writes and any
crash report hold the canary only where the user chose to keep it."""

from __future__ import annotations

import os
import stat

import pytest
from rich.console import Console

from sluice.core.crash import write_crash_report
from sluice.core.es import build_client
from sluice.core.protocol import open_store
from sluice.tui.app import SluiceApp
from sluice.tui.crash import crash_message
from tests.canaries.conftest import ES_PASSWORD, leaking_files, leaks, paths_holding
from tests.tui.conftest import SIZE, fill_elasticsearch, next_step, wait_for, wizard

pytestmark = pytest.mark.es


class Screens:
    """Every frame worth checking, as the text a screenshot would hold."""

    def __init__(self, app: SluiceApp) -> None:
        self.app = app
        self.leaks: list[str] = []

    def check(self, where: str) -> None:
        svg = self.app.export_screenshot()
        if leaks(svg):
            self.leaks.append(where)


async def walk(pilot, app, settings, docs_dir, index, placement, screens):
    screen = wizard(app)
    await pilot.press(*"folder")
    await pilot.press("tab", "down", "enter")
    await wait_for(pilot, lambda: app.session.state.service_type == "dir", what="source")
    await next_step(pilot, app)
    await fill_elasticsearch(pilot, app, settings)
    await pilot.pause(0.5)
    screens.check("step 2, password typed")
    screen.query_one("#es-password").focus()  # the reveal toggle stays off: masked
    await next_step(pilot, app, timeout=60)
    name = screen.query_one("#connector-name")
    name.value = ""
    name.focus()
    await pilot.press(*f"canary {index[-8:]}")
    screens.check("step 3")
    await next_step(pilot, app)
    screens.check("step 4")
    if placement == "file":
        screen.query_one("#placement-file").value = True
        await pilot.pause()
        screen.query_one("#file-consent").value = True
        await pilot.pause()
    screens.check(f"step 4, {placement} chosen")
    await next_step(pilot, app)
    await wait_for(pilot, lambda: screen.query("#input-directory"), what="directory field")
    directory = screen.query_one("#input-directory")
    directory.focus()
    await pilot.press(*str(docs_dir))
    screens.check("step 5")
    await next_step(pilot, app)
    screen.query_one("#index-name").value = index
    screens.check("step 6")
    await next_step(pilot, app)
    screens.check("step 7")


@pytest.mark.parametrize("placement", ["env", "file"])
async def test_wizard_keeps_the_password_only_where_chosen(
    tmp_path, fake_es, docs_dir, unique, cleanup_indices, state_dir, placement, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    fake_es.cluster.connector_api = False  # like the stand-in: the connector indices are used
    fake_es.add_user("élodie", ES_PASSWORD, cluster={"all"}, indices=[(["*"], {"all"})])
    settings = {"host": fake_es.url, "username": "élodie", "password": ES_PASSWORD}
    config = tmp_path / "config.yml"
    index = f"search-sluice-test-canary-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(str(config), start_over=True, test_mode=True)
    screens = Screens(app)
    async with app.run_test(size=SIZE) as pilot:
        await walk(pilot, app, settings, docs_dir, index, placement, screens)
        connector_id = app.session.state.connector_id
    assert not screens.leaks, f"the password was drawn on screen at: {screens.leaks}"

    text = config.read_text(encoding="utf-8")
    if placement == "file":
        assert ES_PASSWORD in text  # the user's explicit choice, with consent
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        others = {p: hits for p, hits in leaking_files(tmp_path).items() if p != str(config)}
    else:
        assert "${SLUICE_ES_PASSWORD}" in text
        others = leaking_files(tmp_path)
    assert not others, f"the password was written to files the user did not choose: {others}"
    assert not leaking_files(state_dir)

    client = build_client(settings)
    try:
        store = await open_store(client)
        connector = await store.get_connector(connector_id)
        assert connector is not None
        assert not paths_holding(connector.doc, ES_PASSWORD)
    finally:
        await client.close()

    # the choice changes to an environment variable: config.yml and its .bak are clean
    if placement == "file":
        again = SluiceApp(str(config), test_mode=True)
        async with again.run_test(size=SIZE) as pilot:
            screen = wizard(again)
            # a resumed setup loads config.yml and the keyring before its steps take a jump
            await wait_for(pilot, lambda: not screen.loading, what="the resumed setup")
            screen.jump(3)
            await wait_for(pilot, lambda: screen.current == 3, what="step 4")
            screen.query_one("#placement-env").value = True
            await pilot.pause()
            await next_step(pilot, again)
        assert not leaking_files(tmp_path), "a secret moved out stayed in a file"


def test_crash_report_and_message_hold_no_secret(tmp_path, state_dir):
    """An exception whose text carries the password (as a library's might): the report file
    and the terminal message are scrubbed."""
    from sluice.core.config import load_config

    config = tmp_path / "config.yml"
    config.write_text(
        f"elasticsearch:\n  host: http://127.0.0.1:9\n  username: u\n  password: '{ES_PASSWORD}'\n",
        encoding="utf-8",
    )
    load_config(config)  # Sluice learns the secret where it reads it
    try:
        raise ValueError(f"could not encode {ES_PASSWORD!r} for the header")
    except ValueError as exc:
        report = write_crash_report(exc, context="test")
        message = crash_message(exc, report, "sluice")
    assert report is not None and report.parent.parent == state_dir
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    body = report.read_text(encoding="utf-8")
    assert "ValueError" in body and "[REDACTED]" in body and not leaks(body)
    console = Console(record=True, width=100, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(message)
    shown = console.export_text()
    assert "crash report" in shown and not leaks(shown)


async def test_unexpected_error_in_the_app_prints_no_traceback(tmp_path, state_dir):
    """Textual would print a traceback with local variables; Sluice's app exits with a
    readable message and a redacted crash report."""
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    shown: list = []
    app.panic = lambda *renderables: shown.extend(renderables)  # what the terminal gets
    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            app.call_later(_boom)
            await pilot.pause(0.5)
    assert app.return_code == 1
    reports = list((state_dir / "crash-reports").glob("crash-*.txt"))
    assert len(reports) == 1 and f"RuntimeError: boom {ES_PASSWORD}" not in reports[0].read_text()
    assert "RuntimeError: boom [REDACTED]" in reports[0].read_text()
    text = "".join(str(r) for r in shown)
    assert "Traceback" not in text and "boom" in text and str(reports[0]) in text
    assert not leaks(text)


def _boom() -> None:
    from sluice.core.redact import remember_secret

    remember_secret(ES_PASSWORD)
    raise RuntimeError(f"boom {ES_PASSWORD}")


def test_screenshots_show_no_secret():
    """`make screenshots` types a demo API key into the wizard: no image may show it."""
    from sluice.tui.screenshots import DEMO_KEY
    from tests.conftest import ROOT

    images = sorted((ROOT / "screenshots").glob("*.svg"))
    assert images
    shown = [image.name for image in images if leaks(image.read_text(encoding="utf-8"), [DEMO_KEY])]
    assert not shown, f"screenshots showing the API key: {shown}"
