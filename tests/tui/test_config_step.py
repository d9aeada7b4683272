"""Step 4 writes a config.yml Elastic's own service runs unchanged: it asks the cluster for
the Connector API (`feature_use_connectors_api: false` where there is none, left out where
there is one) and says inline when a setting is one Elastic's service does not read, offering
a CA file it reads instead of a fingerprint. Against the real local servers, the fake
Connector API in front of them and the stunnel TLS endpoint."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluice.core.checks.cluster import detect_connector_api
from sluice.core.config import load_config
from sluice.core.config.elastic_compat import FLAG
from sluice.core.es import build_client
from sluice.core.protocol import IndexConnectorStore, open_store
from sluice.tui.app import SluiceApp
from sluice.tui.screens.steps.config_file import ConfigFileStep
from sluice.tui.state import WizardState, save_state
from tests.fakes.fake_connector_api import FakeConnectorApi
from tests.servers.certs import sha256_fingerprint
from tests.tui.conftest import SIZE, press_button, text_of, wait_for, wizard

pytestmark = pytest.mark.es

CONNECTOR_ID = "c13-config-step-connector"


def app_at_config_step(config: Path, es: dict[str, Any], **state_values: Any) -> SluiceApp:
    """The wizard resumed at step 4 with step 2 answered by `es` (the cluster under test)."""
    state = WizardState(
        step=3,
        completed=[0, 1, 2],
        service_type="dir",
        es_host=es["host"],
        es_auth="api_key" if es.get("api_key") else "basic" if es.get("username") else "none",
        es_username=es.get("username") or "elastic",
        es_ca_certs=es.get("ca_certs") or "",
        connector_id=CONNECTOR_ID,
        config_path=str(config),
        secret_placement="file",
    )
    for key, value in state_values.items():
        setattr(state, key, value)
    save_state(state, config)
    app = SluiceApp(str(config), test_mode=True)
    app.session.es_api_key = es.get("api_key") or ""
    app.session.es_password = es.get("password") or ""
    return app


def preview(screen: Any) -> str:
    content = screen.query_one("#config-preview").content
    return str(getattr(content, "code", content))


async def asked(pilot: Any, step: ConfigFileStep) -> None:
    await wait_for(pilot, lambda: not step._api_checking, what="the Connector API answer")
    await pilot.pause(0.1)


async def write(pilot: Any, screen: Any) -> dict[str, Any]:
    """Tick the plain-text consent (when there is a secret) and write, as Next does."""
    step = screen.step
    consent = screen.query_one("#file-consent")
    consent.value = True
    await pilot.pause()
    assert step.blocker() is None, step.blocker()
    assert await step.commit()
    return yaml.safe_load(Path(step.session.state.config_path).read_text())


async def test_no_connector_api_writes_the_flag_false(tmp_path, es_config):
    if await detect_connector_api(es_config):
        pytest.skip("this cluster has the Connector API")
    config = tmp_path / "config.yml"
    app = app_at_config_step(config, es_config)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        step = screen.step
        assert isinstance(step, ConfigFileStep)
        await asked(pilot, step)
        note = text_of(screen.query_one("#api-note"))
        assert "no Connector API" in note and f"{FLAG}: false" in note
        assert f"{FLAG}: false" in preview(screen)
        assert not screen.query_one("#compat-box").has_class("-shown")
        written = await write(pilot, screen)
    assert written["elasticsearch"][FLAG] is False
    loaded = load_config(config)
    assert [w for w in loaded.warnings if "Elastic's service" in str(w)] == []
    # Sluice then opens the same store Elastic's service will use: the connector indices.
    client = build_client(loaded.elasticsearch)
    try:
        store = await open_store(client, es_settings=loaded.elasticsearch)
        assert isinstance(store, IndexConnectorStore)
    finally:
        await client.close()


async def test_connector_api_leaves_the_flag_out_and_removes_a_stale_false(tmp_path, es_config):
    config = tmp_path / "config.yml"
    config.write_text(f"elasticsearch:\n  host: http://old:9200\n  {FLAG}: false\n")
    with FakeConnectorApi(es_config["host"]) as fake:
        app = app_at_config_step(config, {**es_config, "host": fake.url})
        async with app.run_test(size=SIZE) as pilot:
            screen = wizard(app)
            await asked(pilot, screen.step)
            assert not screen.query_one("#api-note").display
            assert f"-  {FLAG}: false" in preview(screen)  # the diff removes it
            written = await write(pilot, screen)
    assert FLAG not in written["elasticsearch"]
    assert written["elasticsearch"]["host"] == fake.url


async def test_fingerprint_is_flagged_inline_and_saved_as_a_ca_file(tmp_path, tls_urls, test_certs):
    config = tmp_path / "config.yml"
    fingerprint = sha256_fingerprint(test_certs.ca)
    app = app_at_config_step(config, {"host": tls_urls["good"]}, es_fingerprint=fingerprint)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await asked(pilot, screen.step)
        box = screen.query_one("#compat-box")
        assert box.has_class("-shown")
        shown = text_of(screen.query_one("#compat-text"))
        assert "elasticsearch.ca_fingerprint: Elastic's service does not read this key" in shown
        assert "default (system) CAs" in shown and "Save CA file" in shown
        assert screen.query_one("#compat-save-ca").display
        await press_button(pilot, "#compat-save-ca")
        await wait_for(pilot, lambda: app.session.state.es_ca_certs, what="the CA file")
        await wait_for(pilot, lambda: not box.has_class("-shown"), what="the warning to go")
        saved = Path(app.session.state.es_ca_certs)
        assert f"ca_certs: {saved}" in preview(screen)
        written = await write(pilot, screen)
    assert saved.parent == tmp_path and saved.name.startswith("127.0.0.1-")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o644
    assert sha256_fingerprint(saved) == fingerprint
    assert written["elasticsearch"]["ca_certs"] == str(saved)
    assert written["elasticsearch"]["ca_fingerprint"] == fingerprint  # Sluice keeps pinning
    assert [w for w in load_config(config).warnings if "Elastic's service" in str(w)] == []
    # What Elastic's service reads alone, ca_certs, verifies the TLS endpoint.
    client = build_client({"host": tls_urls["good"], "ca_certs": str(saved), "max_retries": 0})
    try:
        assert (await client.info())["version"]["number"]
    finally:
        await client.close()


async def test_a_bearer_token_left_in_the_file_is_not_kept(tmp_path, es_config):
    """The wizard writes the authentication step 2 checked; a token in the file would be
    read by Sluice before username/password and ignored by Elastic's service."""
    config = tmp_path / "config.yml"
    config.write_text("elasticsearch:\n  host: http://old:9200\n  bearer_auth: b3arer-x\n")
    app = app_at_config_step(config, es_config)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await asked(pilot, screen.step)
        written = await write(pilot, screen)
    assert "bearer_auth" not in written["elasticsearch"]
