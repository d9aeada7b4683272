"""What a user sees when something is wrong: the message next to the field at fault, and
"Next" held back with the reason in words."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import open_store
from sluice.tui.app import SluiceApp
from sluice.tui.state import WizardState, load_state, save_state, state_path
from sluice.tui.widgets.check_runner import CheckRunner
from tests.fakes.fake_security import Canned, FakeElasticsearch
from tests.servers.fixtures import NGINX_PASSWORD, NGINX_USER
from tests.tui.conftest import SIZE, fill_elasticsearch, press_button, text_of, wait_for, wizard

pytestmark = pytest.mark.es


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def at_step(pilot, app, index: int):
    screen = wizard(app)
    await wait_for(pilot, lambda: screen.shown_step == index, what=f"step {index + 1}")
    return screen


async def connector_for_test(es_config, name: str) -> str:
    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.create_connector(index_name="", service_type="dir", name=name)
        return connector.id
    finally:
        await client.close()


def prepared_state(tmp_path, es_config, connector_id: str, step: int) -> str:
    """A saved wizard state as if steps before `step` were done (what a resume reads)."""
    config = tmp_path / "config.yml"
    state = WizardState(
        step=step,
        completed=list(range(step)),
        service_type="dir",
        es_host=es_config["host"],
        es_auth="none",
        connector_id=connector_id,
        connector_name="errors test",
        config_path=str(config),
    )
    save_state(state, config)
    return str(config)


async def test_unreachable_host_is_reported_under_the_endpoint(tmp_path):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with app.run_test(size=SIZE) as pilot:
        app.session.state.service_type = "dir"
        app.session.state.mark_done(0)
        wizard(app).go_to(1)
        screen = await at_step(pilot, app, 1)
        screen.query_one("#es-host").value = url
        screen.query_one("#es-auth").value = "none"
        status = screen.query_one("#es-host-status")
        await wait_for(
            pilot,
            lambda: status.has_class("-fail") and str(port) in text_of(status),
            what="host failure",
        )
        shown = text_of(status)
        assert "connection refused" in shown
        assert "Fix:" in shown  # the hint comes with the problem
        await wait_for(pilot, lambda: "failed" in (screen.step.blocker() or ""), what="blocker")
        assert screen.query_one("#next").disabled


async def test_wrong_password_is_reported_under_the_password(tmp_path, nginx_url):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        app.session.state.service_type = "dir"
        app.session.state.mark_done(0)
        wizard(app).go_to(1)
        screen = await at_step(pilot, app, 1)
        await fill_elasticsearch(
            pilot, app, {"host": nginx_url, "username": NGINX_USER, "password": "not-it"}
        )
        status = screen.query_one("#es-password-status")
        await wait_for(pilot, lambda: status.has_class("-fail"), what="password failure")
        assert "not-it" not in text_of(status)  # never echo the secret
        assert screen.query_one("#next").disabled
        # the right password clears it
        screen.query_one("#es-password").value = NGINX_PASSWORD
        await wait_for(
            pilot,
            lambda: not status.has_class("-fail") and screen.step._checked,
            timeout=30,
            what="password accepted",
        )
        assert "authentication" not in (screen.step.blocker() or "").lower()


async def test_invalid_index_name_is_reported_as_typed(tmp_path, es_config, unique):
    connector_id = await connector_for_test(es_config, f"index errors {unique}")
    app = SluiceApp(prepared_state(tmp_path, es_config, connector_id, 5), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_step(pilot, app, 5)
        name = screen.query_one("#index-name")
        # the step focuses its first field just after it opens: let it, then type in the name
        await pilot.pause(0.3)
        name.value = ""
        name.focus()
        await wait_for(pilot, lambda: app.focused is name, what="the name field focused")
        await pilot.press(*"Bad Name")
        status = screen.query_one("#index-name-status")
        # the status follows the keys: wait for the whole name's problems, not the first key's
        await wait_for(
            pilot, lambda: "try 'search-bad-name'" in text_of(status), what="name problem"
        )
        shown = text_of(status)
        assert "lowercase" in shown and "must not contain space" in shown
        assert "not valid" in (screen.step.blocker() or "")
        assert screen.query_one("#next").disabled
        # a pasted blob is quoted cut short, name and suggestion alike
        name.value = "B" * 3000
        await pilot.pause()
        shown = text_of(status)
        assert "must be lowercase" in shown and "3000 bytes long" in shown
        assert "B" * 100 not in shown and "b" * 100 not in shown and len(shown) < 400


async def test_missing_directory_fails_the_source_test_under_the_field(tmp_path, es_config, unique):
    connector_id = await connector_for_test(es_config, f"source errors {unique}")
    app = SluiceApp(prepared_state(tmp_path, es_config, connector_id, 4), test_mode=True)
    missing = tmp_path / "no-such-folder"
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_step(pilot, app, 4)
        step = screen.step
        # the form is mounted once the connector's settings are read: fill that one
        title = screen.query_one("#source-title")
        await wait_for(
            pilot,
            lambda: step.form is not None and text_of(title).endswith(" settings"),
            what="the form of the connector's settings",
        )
        # the settings read from the record may remount the form: type once nothing runs
        await wait_for(
            pilot, lambda: not any(w.is_running for w in app.workers), what="the step idle"
        )
        # a late remount (the record's settings arriving) would drop a value typed before it:
        # type until the form on screen holds it for a while, as a user would see it
        holds = 0
        for _ in range(100):
            form = step.form
            if form.fields["directory"].raw_value() != str(missing):
                form.set_value("directory", str(missing))
                holds = 0
            else:
                holds += 1
                if holds >= 4:
                    break
            await pilot.pause(0.1)
        await press_button(pilot, "#source-test-button")
        result = screen.query_one("#source-test")
        await wait_for(pilot, lambda: result.has_class("-fail"), what="test failure")
        field_status = screen.query_one("#field-directory-status")
        assert field_status.has_class("-fail")
        # the message once, under the field; the test's line points there
        assert str(missing) in text_of(field_status)
        assert str(missing) not in text_of(result)
        assert "Directory path" in text_of(result)
        # Next runs the same test and stays on the step
        await pilot.press("ctrl+n")
        await pilot.pause(1.0)
        await wait_for(pilot, lambda: not screen.busy, what="commit finished")
        assert screen.current == 4


async def test_reopen_an_existing_connector(tmp_path, es_config, unique):
    name = f"reopen me {unique}"
    connector_id = await connector_for_test(es_config, name)
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        state = app.session.state
        state.service_type, state.es_host, state.es_auth = "dir", es_config["host"], "none"
        state.mark_done(0)
        state.mark_done(1)
        wizard(app).go_to(2)
        screen = await at_step(pilot, app, 2)
        options = screen.query_one("#existing-list")
        await wait_for(
            pilot,
            lambda: any(o.id == connector_id for o in options.options),
            what="connector listed",
        )
        screen.step.query_one("#existing").collapsed = False
        await pilot.pause()
        options.focus()
        options.highlighted = options.get_option_index(connector_id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: state.connector_id == connector_id, what="reopened")
        assert screen.query_one("#connector-name").value == name
        assert text_of(screen.query_one("#connector-id").query_one(".copyable--value")) == (
            connector_id
        )


async def test_scoped_api_key_on_a_cluster_without_security_says_why(
    tmp_path, es_config, unique, cleanup_indices
):
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("needs a cluster without security (the local stand-in)")
    connector_id = await connector_for_test(es_config, f"key errors {unique}")
    index = f"search-sluice-test-key-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(prepared_state(tmp_path, es_config, connector_id, 5), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_step(pilot, app, 5)
        screen.query_one("#index-name").value = index
        screen.query_one("#scoped-key").value = True
        await pilot.pause()
        await wait_for(pilot, lambda: screen.step.blocker() is None, what="index checked")
        await pilot.press("ctrl+n")
        status = screen.query_one("#index-status")
        await wait_for(pilot, lambda: status.has_class("-fail"), what="key refused")
        assert "untick" in text_of(status)
        assert screen.current == 5
        # unticking lets the user go on
        screen.query_one("#scoped-key").value = False
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: screen.shown_step == 6, what="review")


async def test_a_key_that_cannot_be_kept_is_invalidated_not_left_behind(
    tmp_path, es_config, unique, cleanup_indices
):
    """Step 6 makes the connector's API key, then cannot store it (the env file is a
    folder): the key must be invalidated and the record left without it — never a valid key
    recorded nowhere."""
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("needs a cluster without security (the local stand-in)")
    connector_id = await connector_for_test(es_config, f"key undo {unique}")
    index = f"search-sluice-test-key-{unique}"
    cleanup_indices.append(index)
    with FakeElasticsearch(upstream=es_config["host"]) as fake:
        fake.cluster.security = "off"
        # like the stand-in behind it: no Connector API (every store the wizard opens asks)
        no_api = {"error": "no handler found for uri [/_connector] and method [GET]"}
        fake.queue("/_connector", *[Canned(400, {}, no_api) for _ in range(50)])
        key = {"id": "key-1", "name": "k", "api_key": "s", "encoded": "a2V5LTE6cw=="}
        fake.queue(
            "/_security/api_key",
            Canned(200, {}, key),
            Canned(200, {}, {"invalidated_api_keys": ["key-1"], "error_count": 0}),
        )
        config = prepared_state(tmp_path, {"host": fake.url}, connector_id, 5)
        state_file = state_path(config)
        state = load_state(config)
        state.secret_placement, state.scoped_key = "env", True
        save_state(state, config)
        (state_file.parent / "sluice.env").mkdir()  # where the key would go: not a file
        app = SluiceApp(config, test_mode=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await at_step(pilot, app, 5)
            screen.query_one("#index-name").value = index
            await pilot.pause()
            await wait_for(pilot, lambda: screen.step.blocker() is None, what="index checked")
            await pilot.press("ctrl+n")
            status = screen.query_one("#index-status")
            await wait_for(pilot, lambda: status.has_class("-fail"), what="connect refused")
            shown = text_of(status)
            assert "API key key-1" in shown and key["encoded"] not in shown
            assert screen.current == 5
        calls = [(r.method, r.path) for r in fake.requests if r.path == "/_security/api_key"]
        assert calls == [("PUT", "/_security/api_key"), ("DELETE", "/_security/api_key")]
    client = build_client(es_config)
    try:
        record = await (await open_store(client)).get_connector(connector_id)
        assert record is not None and not record.api_key_id and not record.index_name
        assert not await client.indices.exists(index=index)
    finally:
        await client.close()


async def open_elasticsearch_step(pilot, app):
    app.session.state.service_type = "dir"
    app.session.state.mark_done(0)
    wizard(app).go_to(1)
    screen = await at_step(pilot, app, 1)
    # the step focuses its first control after a refresh: let it, before typing anywhere
    await wait_for(
        pilot, lambda: app.focused and screen.step in app.focused.ancestors, what="step focus"
    )
    return screen


async def test_endpoint_typed_key_by_key_never_shows_a_stale_result(tmp_path, es_config):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_elasticsearch_step(pilot, app)
        await fill_elasticsearch(pilot, app, {**es_config, "host": ""})
        status = screen.query_one("#es-host-status")
        checks = screen.query_one("#es-checks")
        host = screen.query_one("#es-host")
        # a debounce longer than a loaded CI machine's pause: "pending" below is about the
        # key press, not about how fast the test runs
        screen.query_one(CheckRunner)._debounce_seconds = 2.0
        host.focus()
        await wait_for(pilot, lambda: app.focused is host, what="endpoint focused")
        await pilot.press("h")
        await wait_for(pilot, lambda: "'h' is not an address" in text_of(status), what="'h'")
        assert "elasticsearch.host" not in text_of(status)  # a config key means nothing here
        await pilot.press("t")
        await pilot.pause()  # the key's Input.Changed handled; well before the debounce ends
        # the result about 'h' is gone with the key press, not when the next result lands
        assert "'h'" not in text_of(status)
        assert all(view.status == "pending" for view in checks.views)
        # ...and the result about 'ht' comes without another key press
        await wait_for(pilot, lambda: "'ht' is not an address" in text_of(status), what="'ht'")
        await pilot.press(*es_config["host"][2:])
        await pilot.pause()
        assert "'ht'" not in text_of(status)
        assert not status.has_class("-fail")
        assert screen.step.blocker() == "Checking the connection…"
        await wait_for(
            pilot,
            lambda: "answered HTTP" in text_of(status) and screen.step.blocker() is None,
            what="the final endpoint checked",
        )
        assert host.value == es_config["host"]


async def test_checks_after_an_authentication_switch_arrive_without_another_key(
    tmp_path, es_config
):
    """Picking another method and then touching nothing: the checks still run and show.
    (A step attribute named like one of Textual's own once stopped the debounce timer from
    firing until the next key press, leaving "checks start when you stop typing" forever.)"""
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_elasticsearch_step(pilot, app)
        await fill_elasticsearch(pilot, app, {**es_config, "api_key": "bm90LWl0OmF0LWFsbA=="})
        checks = screen.query_one("#es-checks")
        await wait_for(
            pilot, lambda: all(v.status != "pending" for v in checks.views), what="first run"
        )
        screen.query_one("#es-auth").value = "basic" if es_config.get("api_key") else "none"
        await asyncio.sleep(4)  # no key, no pilot call: only the app's own timers run
        general = text_of(screen.query_one("#es-general"))
        assert "when you stop typing" not in general
        assert any(v.status != "pending" for v in checks.views)


async def test_switching_authentication_clears_the_old_methods_result(tmp_path, nginx_url):
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_elasticsearch_step(pilot, app)
        await fill_elasticsearch(
            pilot, app, {"host": nginx_url, "username": NGINX_USER, "password": "not-it"}
        )
        password_status = screen.query_one("#es-password-status")
        checks = screen.query_one("#es-checks")
        await wait_for(pilot, lambda: password_status.has_class("-fail"), what="basic refused")
        assert any(view.status == "fail" for view in checks.views)
        screen.query_one("#es-auth").value = "api_key"
        await pilot.pause()
        # nothing said about the username and password is left on screen
        assert not password_status.has_class("-shown")
        assert all(view.status == "pending" for view in checks.views)
        general = text_of(screen.query_one("#es-general"))
        assert "refused" not in general and "password" not in general
        # the new method's own result arrives by itself: no API key typed yet
        api_key_status = screen.query_one("#es-api-key-status")
        await wait_for(pilot, lambda: api_key_status.has_class("-fail"), what="api key result")
        assert "HTTP 401" in text_of(api_key_status)
        assert screen.query_one("#next").disabled


async def test_index_step_suggests_a_free_name_and_flags_a_taken_one_live(
    tmp_path, es_config, unique, es, cleanup_indices
):
    name = f"Taken {unique}"
    taken = f"search-taken-{unique}"  # what the connector's name suggests
    client = build_client(es_config)
    try:
        store = await open_store(client)
        other = await store.create_connector(
            index_name=taken, service_type="dir", name=f"Other {unique}"
        )
        mine = await store.create_connector(index_name="", service_type="dir", name=name)
    finally:
        await client.close()
    await es.indices.create(index=f"{taken}-2")  # an index without a connector is taken too
    cleanup_indices.append(f"{taken}-2")
    config = tmp_path / "config.yml"
    state = WizardState(
        step=5,
        completed=list(range(5)),
        service_type="dir",
        es_host=es_config["host"],
        es_auth="none",
        connector_id=mine.id,
        connector_name=name,
        config_path=str(config),
    )
    save_state(state, config)
    app = SluiceApp(str(config), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_step(pilot, app, 5)
        name_input = screen.query_one("#index-name")
        status = screen.query_one("#index-name-status")
        await wait_for(pilot, lambda: name_input.value, what="a suggested name")
        assert name_input.value == f"{taken}-3"
        await wait_for(pilot, lambda: screen.step.blocker() is None, what="suggestion checked")
        # typing the other connector's index is flagged at once, before any cluster answer
        name_input.focus()
        name_input.value = ""
        await pilot.press(*taken)
        await pilot.pause()
        shown = text_of(status)
        assert f"used by connector 'Other {unique}' ({other.id})" in shown
        assert f"try '{taken}-3'" in shown
        assert "Another connector" in (screen.step.blocker() or "")
        assert screen.query_one("#next").disabled
        # one more key and the name is free again
        await pilot.press("x")
        await pilot.pause()
        assert "used by" not in text_of(status)
        await wait_for(pilot, lambda: screen.step.blocker() is None, what="free name checked")


@pytest.mark.parametrize(("step", "label"), [(2, "Create & next ▶"), (3, "Write & next ▶")])
async def test_next_button_label_is_whole_at_80x24(tmp_path, es_config, step, label):
    """Each step names what Next does; the button must grow to its label (it was cut to
    "Create &" at 80 columns)."""
    app = SluiceApp(prepared_state(tmp_path, es_config, None, step), test_mode=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await at_step(pilot, app, step)
        screen.go_to(step - 1)  # arrive from the step before, as a user does: the label
        await at_step(pilot, app, step - 1)  # changes on a button already laid out
        await pilot.pause()
        screen.go_to(step)
        button = screen.query_one("#next")
        await wait_for(pilot, lambda: str(button.label) == label, what="the step's label")
        await pilot.pause()
        assert button.content_size.width >= len(label)
        assert button.region.right <= 80
