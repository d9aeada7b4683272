"""The CLI's bad-input matrix (issue 12, item 6): every command, every kind of bad input,
in text and with --json.

Each case must end with exit code 2 (bad input) or 1 (the operation failed: an id nobody
has), exactly one `error:` line on stderr (argparse's usage line may precede it), never a
traceback, nothing on stdout in text mode and exactly the JSON error object with --json —
and nothing left behind in the cluster. In process (`main([...])`), against the local
cluster.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli.connector_fixtures import cli_environment

pytestmark = pytest.mark.es

#: This module's content indices all start with this (so "nothing left behind" can be
#: counted while other tests use the same cluster).
PREFIX = f"search-sluice-badinput-{uuid.uuid4().hex[:8]}"
LONG_ID = "x" * 10_000


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    takes_id: bool = True
    extra: tuple[str, ...] = ()
    takes_set: bool = False

    def argv(self, item: str | None, *more: str) -> list[str]:
        head = [*self.words, item] if item is not None else list(self.words)
        return [*head, *self.extra, *more]

    def __str__(self) -> str:
        return " ".join(self.words)


def create_words() -> tuple[str, ...]:
    return ("connector", "create", "--service-type", "dir", "--name", "matrix")


COMMANDS = [
    Command(("connector", "show")),
    Command(("connector", "configure"), extra=("--set", "directory=/x"), takes_set=True),
    Command(("connector", "schedule"), extra=("--full", "0 0 * * * ?")),
    Command(("connector", "delete")),
    Command(("job", "start")),
    Command(("job", "list")),
    Command(("job", "show")),
    Command(("job", "failures")),
    Command(("job", "cancel")),
    Command(("sync",)),
]
WITHOUT_ID = [
    Command(create_words(), takes_id=False, extra=("--index-name",), takes_set=True),
    Command(("connector", "list"), takes_id=False),
    Command(("index", "list"), takes_id=False),
]

#: (name, the id given, exit code, words the error line holds)
BAD_IDS = [
    ("empty", "", 2, "id is empty"),
    ("whitespace", "  \t", 2, "id is empty"),
    ("10,000 characters", LONG_ID, 2, "is 10000 bytes long; Elasticsearch ids are at most 512"),
    ("unknown", "no-such-id-4f1c", 1, "with id 'no-such-id-4f1c' in the cluster at"),
    ("starts with '-'", "-abc", 2, "the following arguments are required"),
    ("generated, starts with '-'", "-Xk3abcdefghijklmnop", 1, "with id '-Xk3abcdefghijklmnop'"),
    ("non-ASCII", "é-ü-日本", 1, "with id 'é-ü-日本' in the cluster at"),
    ("undecodable bytes", "abc\udcff", 2, "id is not valid UTF-8 text"),
]

#: (name, --set value, words the error line holds)
BAD_SETTINGS = [
    ("unknown key", "nope=1", "--set nope: unknown setting 'nope'"),
    ("bad integer", "max_file_size=12abc", "--set max_file_size: 'Maximum file size"),
    ("30-digit integer", "max_file_size=" + "9" * 30, "is out of range (got '99999"),
    ("undecodable bytes", "directory=/srv/\udcff", "--set directory: 'Directory path' is not"),
]

MODES = [pytest.param(False, id="text"), pytest.param(True, id="json")]


@pytest.fixture
def cli_env(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    yield from cli_environment(tmp_path, capsys)


def cluster_traces(cli_env: Any) -> tuple[list[str], list[str]]:
    """This module's content indices, and the connector records naming one of them
    (soft-deleted ones included)."""

    async def look(client: Any) -> tuple[list[str], list[str]]:
        indices = await client.indices.get(index=f"{PREFIX}*", expand_wildcards="all")
        direct = client.options(headers={"X-elastic-product-origin": "connectors"})
        await direct.indices.refresh(index=".elastic-connectors")
        found = await direct.search(
            index=".elastic-connectors", query={"prefix": {"index_name": PREFIX}}, size=100
        )
        return sorted(indices.body), [hit["_id"] for hit in found["hits"]["hits"]]

    return cli_env.es(look)


def check_outcome(
    code: int, out: str, err: str, *, expected: int, words: str, as_json: bool
) -> None:
    """Exit code, exactly one error line (after argparse's usage lines, if any), no
    traceback, and stdout: empty, or the JSON error object carrying the same message."""
    assert code == expected, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err  # only usage lines come before it
    assert all(line.startswith(("usage: ", " ")) for line in lines[:-1]), err
    assert words in errors[0], err
    message = errors[0].split(": error: ", 1)[1]
    if as_json:
        assert json.loads(out) == {"error": {"message": message, "exit_code": expected}}
    else:
        assert out == ""


def run(cli_env: Any, argv: list[str], as_json: bool) -> tuple[int, str, str]:
    return cli_env.run(*argv, *(["--json"] if as_json else []))


def cases(items: list, ids: Callable[[Any], str]) -> list:
    return [pytest.param(*item, id=ids(item)) for item in items]


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize("as_json", MODES)
@pytest.mark.parametrize(("what", "bad", "expected", "words"), cases(BAD_IDS, lambda b: b[0]))
@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_bad_ids(cli_env, command, what, bad, expected, words, as_json):
    before = cluster_traces(cli_env)
    code, out, err = run(cli_env, command.argv(bad), as_json)
    check_outcome(code, out, err, expected=expected, words=words, as_json=as_json)
    assert len(err) < 1000  # a 10,000-character id is not echoed back
    assert cluster_traces(cli_env) == before


# ------------------------------------------------------------------ --set


@pytest.fixture
def connector_id(cli_env):
    """A dir connector of this module (for `configure`), removed afterwards."""
    index = f"{PREFIX}-{uuid.uuid4().hex[:6]}"
    cli_env.indices.append(index)
    code, out, err = cli_env.run(*create_words(), "--index-name", index, "--set", "directory=/x")
    assert code == 0, err
    return cli_env.remember(out)


@pytest.mark.parametrize("as_json", MODES)
@pytest.mark.parametrize(("what", "setting", "words"), cases(BAD_SETTINGS, lambda b: b[0]))
def test_bad_settings_on_create_leave_nothing_behind(cli_env, what, setting, words, as_json):
    before = cluster_traces(cli_env)
    index = f"{PREFIX}-{uuid.uuid4().hex[:6]}"
    cli_env.indices.append(index)
    argv = [*create_words(), "--index-name", index, "--set", setting]
    code, out, err = run(cli_env, argv, as_json)
    check_outcome(code, out, err, expected=2, words=words, as_json=as_json)
    assert cluster_traces(cli_env) == before


@pytest.mark.parametrize("as_json", MODES)
@pytest.mark.parametrize(("what", "setting", "words"), cases(BAD_SETTINGS, lambda b: b[0]))
def test_bad_settings_on_configure_change_nothing(
    cli_env, connector_id, what, setting, words, as_json
):
    before = cli_env.connector_doc(connector_id)
    argv = ["connector", "configure", connector_id, "--set", setting]
    code, out, err = run(cli_env, argv, as_json)
    check_outcome(code, out, err, expected=2, words=words, as_json=as_json)
    assert cli_env.connector_doc(connector_id) == before


# ------------------------------------------------------------------ -c


CONFIGS = [
    ("missing file", lambda tmp: str(tmp / "nope.yml"), "config file not found"),
    ("directory", lambda tmp: str(tmp), "is a directory, not a config file"),
]


@pytest.mark.parametrize("as_json", MODES)
@pytest.mark.parametrize(("what", "path", "words"), cases(CONFIGS, lambda c: c[0]))
@pytest.mark.parametrize("command", COMMANDS + WITHOUT_ID, ids=str)
def test_unusable_config_files(cli_env, tmp_path, command, what, path, words, as_json):
    before = cluster_traces(cli_env)
    item = "some-id" if command.takes_id else None
    if command.words[:2] == ("connector", "create"):
        item = f"{PREFIX}-{uuid.uuid4().hex[:6]}"  # the value of --index-name
        cli_env.indices.append(item)
    argv = command.argv(item, "-c", path(tmp_path))
    if command.words[:2] == ("connector", "create"):
        argv = [*create_words(), "--index-name", item, "-c", path(tmp_path)]
    code, out, err = run(cli_env, argv, as_json)
    check_outcome(code, out, err, expected=2, words=words, as_json=as_json)
    assert cluster_traces(cli_env) == before
