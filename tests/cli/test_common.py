"""What every command shares (cli/common.py): one wording for unknown ids, usage errors for
empty and over-long ids, the JSON error object, and config warnings printed once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from sluice.core.es.tls import redact_userinfo
from tests.cli.connector_fixtures import cli_environment, one_line
from tests.fakes.fake_connector_api import FakeConnectorApi

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    yield from cli_environment(tmp_path, capsys)


#: Every command taking a connector id (argument ID/CONNECTOR_ID) and whether it has --json.
CONNECTOR_COMMANDS = [
    (("connector", "show"), (), True),
    (("connector", "configure"), ("--set", "directory=/x"), False),
    (("connector", "schedule"), ("--full", "0 0 * * * ?"), True),
    (("connector", "delete"), (), False),
    (("job", "list"), (), True),
    (("job", "start"), (), False),
    (("sync",), (), True),
]
#: Every command taking a sync job id (argument JOB).
JOB_COMMANDS = [
    (("job", "show"), (), True),
    (("job", "cancel"), (), False),
    (("job", "failures"), (), True),
]
ALL_COMMANDS = [("connector", *c) for c in CONNECTOR_COMMANDS] + [
    ("sync job", *c) for c in JOB_COMMANDS
]


def _ids(params: list) -> list[str]:
    return [" ".join(p[1]) for p in params]


@pytest.mark.parametrize(
    ("kind", "words", "extra", "has_json"), ALL_COMMANDS, ids=_ids(ALL_COMMANDS)
)
def test_unknown_id_is_one_line_exit_1_with_one_wording(cli_env, kind, words, extra, has_json):
    unknown = f"no-such-{uuid.uuid4().hex[:12]}"
    host = redact_userinfo(cli_env.settings["host"])
    expected = f"sluice: error: no {kind} with id '{unknown}' in the cluster at {host}; "

    code, out, err = cli_env.run(*words, unknown, *extra)
    assert code == 1, err
    assert one_line(err) and err.startswith(expected), err
    assert out == ""

    if has_json:
        code, out, err = cli_env.run(*words, unknown, *extra, "--json")
        assert code == 1 and one_line(err) and err.startswith(expected), err
        assert json.loads(out) == {"error": {"message": err.strip()[15:], "exit_code": 1}}


@pytest.mark.parametrize(
    ("kind", "words", "extra", "has_json"), ALL_COMMANDS, ids=_ids(ALL_COMMANDS)
)
def test_empty_and_over_long_ids_are_usage_errors(cli_env, kind, words, extra, has_json):
    argument = "JOB" if kind == "sync job" else ("CONNECTOR_ID" if words == ("sync",) else "ID")
    for bad, problem in (("", "is empty"), ("  ", "is empty"), ("é" * 257, "is 514 bytes long")):
        code, out, err = cli_env.run(*words, bad, *extra)
        assert code == 2, err
        assert f"error: argument {argument}: the {kind} id {problem}" in err
        assert "Traceback" not in err and out == ""
    if has_json:
        code, out, _err = cli_env.run(*words, "", *extra, "--json")
        error = json.loads(out)["error"]
        assert code == 2 and error["exit_code"] == 2
        assert error["message"].startswith(f"argument {argument}: the {kind} id is empty")


def test_the_longest_id_elasticsearch_takes_is_looked_up(cli_env):
    longest = "x" * 512
    code, _out, err = cli_env.run("job", "failures", longest)  # no "File name too long"
    assert code == 1 and one_line(err) and "no sync job with id 'xxxx" in err


def test_job_list_of_an_unknown_connector_is_not_an_empty_list(cli_env):
    code, out, err = cli_env.run("job", "list", "no-such-connector-abc")
    assert code == 1 and out == ""
    assert "no connector with id 'no-such-connector-abc'" in err
    assert "no sync jobs" not in err


def test_a_job_without_failures_says_so(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    job_id = cli_env.run("job", "start", connector_id)[1].strip()
    code, out, err = cli_env.run("job", "failures", job_id)
    assert code == 0 and out == ""
    assert f"job {job_id} has no failures" in err
    code, out, _err = cli_env.run("job", "failures", job_id, "--json")
    assert code == 0 and json.loads(out) == []


# ------------------------------------------------------------------ config warnings


def _config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("words", [("connector", "list"), ("job", "list"), ("index", "list")])
def test_unknown_config_keys_are_warned_about_once(cli_env, tmp_path, words):
    config = _config(
        tmp_path / "typo.yml", {"service": {"idlling": 3}, "elasticsearch": cli_env.settings}
    )
    args = list(words)
    if words == ("job", "list"):
        args.append(cli_env.create("--set", "directory=/x"))
    code, _out, err = cli_env.run(*args, "-c", str(config))
    assert code == 0, err
    warning = (
        f"sluice: warning: {config}:2:3: unknown key `service.idlling` — did you mean "
        "`service.idling`?"
    )
    assert err.count("service.idlling") == 1 and warning in err.splitlines()
    assert "elasticsearch.host" not in err


@pytest.mark.parametrize("words", [("connector", "list"), ("job", "list", "x"), ("index", "list")])
def test_a_defaulted_host_is_warned_about_once(cli_env, tmp_path, words):
    # No host: Elastic's default (localhost:9200) is used, and nothing listens there.
    config = _config(tmp_path / "nohost.yml", {"elasticsearch": {"max_retries": 0}})
    code, _out, err = cli_env.run(*words, "-c", str(config))
    assert code == 1
    warning = (
        f"sluice: warning: no elasticsearch.host in {config}; using http://localhost:9200 "
        "(Elastic's default) — set it to your cluster's address"
    )
    assert err.splitlines().count(warning) == 1 and err.count("elasticsearch.host") == 2


# ------------------------------------------------------------------ Connector API or indices


@pytest.mark.parametrize(("flag", "via_api"), [(False, False), (True, True), (None, True)])
def test_commands_honour_feature_use_connectors_api(cli_env, tmp_path, flag, via_api):
    """false: the connector indices directly, as Elastic's service then does, even where the
    Connector API answers; true or absent: the API."""
    with FakeConnectorApi(cli_env.settings["host"]) as fake:
        settings = {**cli_env.settings, "host": fake.url}
        if flag is not None:
            settings["feature_use_connectors_api"] = flag
        config = _config(tmp_path / "flag.yml", {"elasticsearch": settings})
        code, _out, err = cli_env.run("connector", "list", "-c", str(config))
        assert code == 0, err
        used_api = [r.path for r in fake.requests if r.path.startswith("/_connector")]
        assert bool(used_api) == via_api, used_api
