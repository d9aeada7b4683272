"""Authentication, product/version, Connector API, license, API keys and privileges, against
the FAKE secured Elasticsearch (tests/fakes/fake_security.py) — the stand-in has no Security
or License API — and real 401s from nginx basic auth in front of the stand-in."""

from __future__ import annotations

import time

import pytest

from sluice.core.checks import collect_checks
from tests.fakes.fake_security import Canned
from tests.servers.fixtures import NGINX_PASSWORD, NGINX_USER

INDEX = "search-sluice-fake"
ADMIN_PASSWORD = "admin-Passw0rd-77"


def by_id(results):
    return {r.id: r for r in results}


async def run(settings, **kwargs):
    return by_id(await collect_checks(settings, timeout=5, **kwargs))


@pytest.fixture
def admin(fake_es):
    fake_es.add_user("elastic", ADMIN_PASSWORD, cluster={"all"}, indices=[(["*"], {"all"})])
    return {"host": fake_es.url, "username": "elastic", "password": ADMIN_PASSWORD}


def connector_key(fake_es, index=INDEX, **grants):
    defaults = {
        "cluster": {"monitor", "manage_connector"},
        "indices": [([index, f".search-acl-filter-{index}", ".elastic-connectors*"], {"all"})],
    }
    defaults.update(grants)
    return fake_es.add_api_key("k-1", "k-secret-1", "connector-key", "elastic", **defaults)


async def test_admin_passes_every_check(fake_es, admin):
    results = await run(admin, index_name=INDEX)
    assert results["authentication"].message == (
        "authenticated as 'elastic' (realm default_native)"
    )
    assert results["product"].message == f"Elasticsearch {fake_es.cluster.version}"
    assert results["connector_api"].message == "Connector API available (0 connectors)"
    assert results["license"].status == "ok"
    assert "basic license, active" in results["license"].message
    assert results["api_keys"].message == "API keys are enabled"
    assert results["privileges"].message == "all privileges the connector needs are granted"
    assert {r.status for r in results.values()} <= {"ok", "skip"}
    assert any(r.headers.get("authorization", "").startswith("Basic") for r in fake_es.requests)


async def test_wrong_password_fails_authentication_and_skips_dependants(fake_es, admin):
    results = await run({**admin, "password": "wrong-password-123"}, index_name=INDEX)
    auth = results["authentication"]
    assert auth.status == "fail"
    assert auth.field == "password"
    assert "rejected user 'elastic'" in auth.message
    assert "unable to authenticate user [elastic]" in auth.message
    assert "wrong-password-123" not in auth.message + str(auth.hint)
    assert results["connection"].status == "ok"  # the 401 is an answer
    for check_id in ("product", "connector_api", "license", "privileges", "index", "pipeline"):
        assert results[check_id].message == "skipped: Authentication failed"


async def test_no_credentials_on_a_secured_cluster(fake_es):
    auth = (await run({"host": fake_es.url}))["authentication"]
    assert auth.status == "fail"
    assert auth.message == "the cluster requires credentials and none are configured"
    assert auth.field == "api_key"


async def test_unknown_api_key(fake_es):
    auth = (await run({"host": fake_es.url, "api_key": "bm9wZTpub3Bl"}))["authentication"]
    assert auth.status == "fail"
    assert auth.message.startswith("Elasticsearch rejected an API key")
    assert auth.field == "api_key"
    assert "bm9wZTpub3Bl" not in auth.message


async def test_connector_key_is_enough_to_run_but_not_to_set_up(fake_es):
    key = connector_key(fake_es)
    results = await run({"host": fake_es.url, "api_key": key}, index_name=INDEX)
    assert results["authentication"].message == (
        "authenticated with API key 'connector-key' of 'elastic'"
    )
    assert results["api_keys"].message == "API keys are enabled (Sluice is using one)"
    privileges = results["privileges"]
    assert privileges.status == "warn"
    assert "enough to run the connector" in privileges.message
    assert "cluster manage_api_key, manage_ingest_pipelines" in privileges.message
    assert privileges.field == "api_key"


async def test_each_missing_privilege_is_named(fake_es):
    fake_es.add_user("reader", "reader-pass-1", cluster={"monitor"}, indices=[([INDEX], {"read"})])
    settings = {"host": fake_es.url, "username": "reader", "password": "reader-pass-1"}
    privileges = (await run(settings, index_name=INDEX))["privileges"]
    assert privileges.status == "fail"
    assert privileges.field == "username"
    message = privileges.message
    assert message.startswith("missing: cluster manage_connector; ")
    assert ".elastic-connectors*: read, write, create_index, view_index_metadata" in message
    assert f"{INDEX}: write, create_index, view_index_metadata" in message
    assert f".search-acl-filter-{INDEX}" in message  # optional, named too
    assert "manage_connector" in privileges.hint


async def test_privileges_without_an_index_check_only_cluster_and_connector_indices(fake_es, admin):
    privileges = (await run(admin))["privileges"]
    assert privileges.status == "ok"
    assert "no index named" in privileges.message


async def test_before_8_15_manage_connector_is_not_asked_for(fake_es, admin):
    fake_es.cluster.version = "8.13.4"  # the fake, like ES, rejects unknown privileges
    results = await run(admin, index_name=INDEX)
    assert results["product"].status == "ok"
    assert "arrive in 8.15" in results["product"].message
    assert results["privileges"].status == "ok"


async def test_7x_is_unsupported(fake_es, admin):
    fake_es.cluster.version = "7.17.20"
    results = await run(admin)
    assert results["product"].status == "fail"
    assert "7.17.20 is not supported" in results["product"].message
    assert results["connector_api"].message == "skipped: Product and version failed"
    assert results["privileges"].status == "skip"


async def test_before_8_12_there_is_no_connector_api(fake_es, admin):
    fake_es.cluster.version = "8.10.2"
    fake_es.cluster.connector_api = False
    results = await run(admin)
    assert results["product"].status == "warn"
    assert "no Connector API (8.12+)" in results["product"].message
    assert results["connector_api"].status == "warn"
    assert ".elastic-connectors indices directly" in results["connector_api"].message


async def test_serverless(fake_es, admin):
    fake_es.cluster.version = "8.11.0"  # what Serverless reports
    fake_es.cluster.build_flavor = "serverless"
    results = await run(admin, index_name=INDEX)
    assert results["product"].message.startswith("Elasticsearch Serverless")
    assert results["privileges"].status == "ok"
    asked = [r for r in fake_es.requests if r.path == "/_security/user/_has_privileges"]
    assert asked


async def test_security_off_is_said_plainly(fake_es):
    fake_es.cluster.security = "off"
    results = await run({"host": fake_es.url, "username": "elastic", "password": "x"})
    auth = results["authentication"]
    assert auth.status == "warn"
    assert auth.message.startswith("security is off on this cluster")
    assert results["api_keys"].message == "security is off: no API keys"
    assert results["privileges"].message == "security is off: every request is allowed"
    assert results["license"].status == "ok"


async def test_expired_license_fails(fake_es, admin):
    fake_es.cluster.license_type = "platinum"
    fake_es.cluster.license_status = "expired"
    fake_es.cluster.license_expiry_millis = 1_600_000_000_000
    lic = (await run(admin))["license"]
    assert lic.status == "fail"
    assert lic.message.startswith("the platinum license is expired (ended 2020-09-13)")


async def test_trial_about_to_end_warns(fake_es, admin):
    fake_es.cluster.license_type = "trial"
    fake_es.cluster.license_expiry_millis = int((time.time() + 5 * 86400) * 1000)
    lic = (await run(admin))["license"]
    assert lic.status == "warn"
    assert "trial license, active, ends" in lic.message


async def test_api_keys_disabled(fake_es, admin):
    fake_es.cluster.api_keys_enabled = False
    api_keys = (await run(admin))["api_keys"]
    assert api_keys.status == "fail"
    assert "xpack.security.authc.api_key.enabled" in api_keys.hint


async def test_api_keys_disabled_seen_without_monitor(fake_es):
    """No `monitor` (no _xpack/usage): the check asks the API key endpoint itself."""
    fake_es.add_user("plain", "plain-pass-1", cluster={"manage_own_api_key"})
    fake_es.cluster.api_keys_enabled = False
    settings = {"host": fake_es.url, "username": "plain", "password": "plain-pass-1"}
    results = await run(settings)
    assert results["api_keys"].status == "fail"
    assert fake_es.count("/_security/api_key") == 1
    assert results["product"].status == "warn"  # GET / is 403 without monitor
    assert "monitor" in results["product"].message
    assert results["license"].status == "warn"


async def test_unexpected_error_answer_is_a_failure_not_a_crash(fake_es, admin):
    fake_es.queue(
        "/_license",
        Canned(500, {}, {"error": {"type": "exception", "reason": "boom"}, "status": 500}),
    )
    lic = (await run(admin))["license"]
    assert lic.status == "fail"
    assert lic.message == "GET _license failed: boom"


async def test_data_stream_and_closed_index_are_refused(fake_es, admin):
    fake_es.queue(
        "/_resolve/index/logs-app",
        Canned(
            200,
            {},
            {
                "indices": [],
                "aliases": [],
                "data_streams": [
                    {
                        "name": "logs-app",
                        "backing_indices": [".ds-logs-app-000001"],
                        "timestamp_field": "@timestamp",
                    }
                ],
            },
        ),
    )
    results = await run(admin, index_name="logs-app")
    assert results["index"].status == "fail"
    assert "is a data stream" in results["index"].message
    assert results["index_name"].status == "warn"  # no search- prefix

    fake_es.queue(
        f"/_resolve/index/{INDEX}",
        Canned(
            200,
            {},
            {
                "indices": [{"name": INDEX, "attributes": ["closed"]}],
                "aliases": [],
                "data_streams": [],
            },
        ),
    )
    index = (await run(admin, index_name=INDEX))["index"]
    assert index.status == "fail"
    assert index.message == f"'{INDEX}' is closed"
    assert index.hint == f"open it: POST /{INDEX}/_open"


async def test_nginx_basic_auth_401_is_explained(nginx_url):
    results = await run({"host": nginx_url, "username": NGINX_USER, "password": "wrong-pw-1"})
    assert results["connection"].status == "ok"
    assert "HTTP 401" in results["connection"].message
    auth = results["authentication"]
    assert auth.status == "fail"
    assert auth.message == (
        f"a proxy in front of Elasticsearch refused user '{NGINX_USER}' "
        '(HTTP 401 (Basic realm="security"))'
    )
    assert results["product"].status == "skip"


async def test_nginx_lets_the_right_password_through(nginx_url):
    results = await run({"host": nginx_url, "username": NGINX_USER, "password": NGINX_PASSWORD})
    assert results["authentication"].status in ("ok", "warn")
    assert results["product"].status == "ok"
