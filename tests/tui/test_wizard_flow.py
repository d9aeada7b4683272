"""The whole wizard, driven by keys, against the cluster under test and a `dir` source over a
temporary folder: the connector record, config.yml and the index must really exist after."""

from __future__ import annotations

import json

import pytest
import yaml

from sluice.core.es import build_client
from sluice.core.protocol import open_store
from sluice.tui.app import SluiceApp
from sluice.tui.state import state_path
from tests.tui.conftest import SIZE, fill_elasticsearch, next_step, ready, wait_for, wizard

pytestmark = pytest.mark.es


async def walk_to_review(pilot, app, es_config, docs_dir, name, index):
    """Steps 1-6 with the keyboard; returns at step 7."""
    screen = wizard(app)
    # 1. search the source list, Enter to the first match, Enter to pick "Local folder"
    await pilot.press(*"folder")
    await pilot.press("enter", "enter")
    await wait_for(pilot, lambda: app.session.state.service_type == "dir", what="source picked")
    await next_step(pilot, app)
    # 2. Elasticsearch
    await fill_elasticsearch(pilot, app, es_config)
    await next_step(pilot, app)
    # 3. connector name, then "Create & next"
    name_input = screen.query_one("#connector-name")
    name_input.value = ""
    name_input.focus()
    await pilot.press(*name)
    await next_step(pilot, app)
    # 4. config.yml (written on Next)
    await next_step(pilot, app)
    # 5. source details: type the folder into the generated form
    await wait_for(pilot, lambda: screen.steps[4].form is not None, what="form")
    # the form is (re)mounted for the connector just created: wait for its field itself
    await wait_for(pilot, lambda: screen.query("#input-directory"), what="the directory field")
    directory = screen.query_one("#input-directory")
    directory.focus()
    await pilot.press(*str(docs_dir))
    await next_step(pilot, app)
    # 6. index
    index_input = screen.query_one("#index-name")
    index_input.value = index
    await next_step(pilot, app)
    assert screen.current == 6
    return screen


async def test_wizard_creates_connector_config_and_index(
    tmp_path, es_config, docs_dir, unique, cleanup_indices
):
    config = tmp_path / "config.yml"
    name = f"TUI flow {unique}"
    index = f"search-sluice-test-tui-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(str(config), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await walk_to_review(pilot, app, es_config, docs_dir, name, index)
        screen = await ready(pilot, app)
        summary = screen.query_one("#summary")
        assert summary.row_count >= 7
        connector_id = app.session.state.connector_id
        assert connector_id
        assert set(app.session.state.completed) == {0, 1, 2, 3, 4, 5}

    # the connector record, as another client sees it
    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.get_connector(connector_id)
        assert connector is not None
        assert connector.name == name
        assert connector.service_type == "dir"
        assert connector.index_name == index
        assert connector.configuration["directory"]["value"] == str(docs_dir)
        assert str(connector.status) == "configured"
        assert await client.indices.exists(index=index)
    finally:
        await client.close()

    # config.yml: the cluster and the connector, readable YAML
    written = yaml.safe_load(config.read_text())
    assert written["elasticsearch"]["host"] == es_config["host"]
    assert {"connector_id": connector_id, "service_type": "dir"}.items() <= (
        written["connectors"][0].items()
    )
    # the wizard state: resumable, and without any secret
    state = json.loads(state_path(config).read_text())
    assert state["connector_id"] == connector_id
    assert state["step"] == 6
    if es_config.get("api_key"):
        assert es_config["api_key"] not in state_path(config).read_text()


async def test_step_list_marks_done_current_and_todo_in_text(tmp_path):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        steps = screen.query_one("#step-list")
        await pilot.pause()
        assert steps.status_text(0) == "current"
        assert steps.status_text(1) == "to do"
        assert str(steps.get_option_at_index(0).prompt).startswith("▶")
        # jumping ahead past unfinished steps is refused
        screen.jump(4)
        await pilot.pause()
        assert screen.current == 0
        # "Next" is blocked with a reason in words until a source is picked
        assert "Pick the data source" in (screen.step.blocker() or "")
        assert screen.query_one("#next").disabled


async def test_command_palette_runs_wizard_actions_and_theme(tmp_path):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        screen.steps[0].choose("dir")
        await ready(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"next step")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.current == 1, what="palette Next step")
        theme = app.theme
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"toggle light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme != theme, what="theme toggled")
        assert app.theme in ("sluice-dark", "sluice-light")


async def test_step2_checks_run_for_edits_and_on_purpose_never_as_a_side_effect(
    tmp_path, es_config, monkeypatch
):
    """Issue 14 item 3: saved answers are checked once when the step opens; the step's own
    writes (sandbox address, pinned CA file) start nothing; a user's edit starts one run
    after the pause, and a result of older answers is never shown."""
    from sluice.tui.state import WizardState, save_state
    from sluice.tui.widgets.check_runner import CheckRunner

    runs: list[str] = []
    run_now = CheckRunner.run_now

    def counted(runner: CheckRunner) -> None:
        runs.append(runner._settings()["host"])
        run_now(runner)

    monkeypatch.setattr(CheckRunner, "run_now", counted)
    config = tmp_path / "config.yml"
    save_state(
        WizardState(
            step=1, completed=[0], service_type="dir", es_host="http://127.0.0.1:9", es_auth="none"
        ),
        config,
    )
    app = SluiceApp(str(config), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await wait_for(pilot, lambda: not screen.loading, what="the resumed setup")
        step = screen.step
        await wait_for(pilot, lambda: step.blocker() != "Checking the connection…", what="checks")
        await pilot.pause(1.0)  # longer than the debounce: nothing else may start
        assert runs == ["http://127.0.0.1:9"]  # once, on purpose, for the saved answers

        step._set_quietly(es_host="http://127.0.0.1:9/quiet")  # the step's own write
        await pilot.pause(1.0)
        assert runs == ["http://127.0.0.1:9"]

        await fill_elasticsearch(pilot, app, es_config)  # the user's edits
        await ready(pilot, app)
        assert runs[1:] == [es_config["host"]]  # one run, after the pause


async def test_enter_twice_in_the_search_picks_the_first_match_even_before_focus_moves(tmp_path):
    """Typed fast, the second Enter can reach the search box before the focus moved to the
    list: it picks the highlighted match all the same."""
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        search = screen.query_one("#source-search")
        await pilot.press(*"jira")
        await pilot.press("enter")
        search.focus()  # as if the focus had not moved yet
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.state.service_type == "jira", what="picked")


async def test_enter_in_the_search_picks_the_only_match_and_waits_among_several(tmp_path):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        screen.query_one("#source-search").focus()
        await pilot.press(*"storage", "enter")  # S3, Azure Blob, Google Cloud Storage...
        await pilot.pause(0.3)
        assert app.session.state.service_type is None
        assert app.focused is screen.query_one("#source-list")
        screen.query_one("#source-search").value = ""
        screen.query_one("#source-search").focus()
        await pilot.press(*"dir", "enter")
        await wait_for(pilot, lambda: app.session.state.service_type == "dir", what="picked")
