"""What a one-shot command's log records look like on stderr: the CLI's own prefix, no word
said twice (a notice the summary prints stays out of stderr unless `-v`), no library chatter,
never a traceback unless `-vv`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.cli.logs import command_logging
from sluice.core.log_marks import REPORTED
from sluice.core.protocol import open_store
from tests.cli.connector_fixtures import CliEnv, cli_environment


@pytest.fixture
def cli_env(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Iterator[CliEnv]:
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    yield from cli_environment(tmp_path, capsys)


def emit_all() -> None:
    """One record of each kind a command may log."""
    logging.getLogger("sluice.core.engine.engine").warning("a notice", extra=REPORTED)
    logging.getLogger("sluice.es.retry").warning("GET /: refused, retrying in 0.9 s")
    logging.getLogger("sluice.core.engine.runner").info("job J claimed")
    logging.getLogger("elastic_transport.node_pool").warning("node has failed 1 times")
    logging.getLogger("elastic_transport.transport").error("library trouble")
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("sluice.cli").exception("could not go on")


@pytest.mark.parametrize(
    ("verbosity", "shown", "hidden"),
    [
        (
            0,
            [
                "sluice: warning: GET /: refused, retrying in 0.9 s",
                "sluice: error: [elastic_transport.transport] library trouble",
                "sluice: error: could not go on (ValueError: bad value)",
            ],
            ["a notice", "job J claimed", "node has failed", "Traceback"],
        ),
        (
            1,
            ["sluice: warning: a notice", "sluice: job J claimed", "retrying in 0.9 s"],
            ["node has failed", "Traceback"],
        ),
        (2, ["a notice", "job J claimed", "node has failed", "Traceback", "bad value"], []),
    ],
)
def test_each_verbosity_shows_its_records(capsys, verbosity, shown, hidden):
    with command_logging(verbosity):
        emit_all()
    err = capsys.readouterr().err
    for words in shown:
        assert words in err
    for words in hidden:
        assert words not in err


def test_the_set_up_before_a_command_is_back_after_it(capsys):
    root, own = logging.getLogger(), logging.getLogger("sluice")
    handlers, levels = list(root.handlers), (root.level, own.level)
    with command_logging(2):
        assert len(root.handlers) == len(handlers) + 1
    assert root.handlers == handlers and (root.level, own.level) == levels
    logging.getLogger("sluice.x").warning("after the command")
    assert "after the command" not in capsys.readouterr().err


def test_records_follow_stderr_as_it_is_when_they_come(monkeypatch, capsys):
    """A TUI swaps sys.stderr while it runs; the records go where it points then."""
    import io

    swapped = io.StringIO()
    with command_logging(0):
        monkeypatch.setattr(sys, "stderr", swapped)
        logging.getLogger("sluice.x").warning("while the TUI runs")
        monkeypatch.undo()
    assert "sluice: warning: while the TUI runs" in swapped.getvalue()
    assert "while the TUI runs" not in capsys.readouterr().err


@pytest.mark.es
def test_a_sync_says_a_notice_once_and_v_adds_the_progress(cli_env, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"é-{n}.txt").write_text(f"file {n}\n")
    connector_id = cli_env.create("--set", f"directory={folder}")
    missing = f"sluice-test-missing-pipeline-{tmp_path.name}"

    async def point_at_missing_pipeline(client: Any) -> None:
        store = await open_store(client)
        pipeline = {"name": missing, "extract_binary_content": True}
        await store.update_pipeline(connector_id, {**pipeline, "reduce_whitespace": True})

    cli_env.es(point_at_missing_pipeline)

    code, out, err = cli_env.run("sync", connector_id)
    assert code == 0, err
    assert out.count(f"ingest pipeline '{missing}'") == 1  # the summary's note
    assert missing not in err and "Traceback" not in err

    code, out, err = cli_env.run("sync", connector_id, "-v")
    assert code == 0, err
    assert f"sluice: warning: ingest pipeline '{missing}'" in err
    assert f"claimed for connector {connector_id}" in err


def test_a_known_secret_never_reaches_stderr_and_libraries_are_named(capsys):
    from sluice.core.redact import forget_all_secrets, remember_secret

    remember_secret("hunter2-long-secret")
    remember_secret("sluice")  # a secret that is also the prefix's word: the prefix stays
    try:
        with command_logging(2):
            logging.getLogger("sluice.core.es").warning("login hunter2-long-secret refused")
            logging.getLogger("httpcore.connection").debug("connect_tcp.started")
    finally:
        forget_all_secrets()
    err = capsys.readouterr().err
    assert "sluice: warning: login [REDACTED] refused" in err
    assert "hunter2" not in err
    assert "sluice: debug: [httpcore.connection] connect_tcp.started" in err
