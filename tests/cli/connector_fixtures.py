"""Fixtures for the connector/job/index CLI tests.

The CLI works on Elastic's real connector indices of SLUICE_ES_URL (as a user's would), so
every test uses unique names, and `cli_environment` removes exactly the connectors, jobs and content
indices the test created.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluice.cli.main import main
from sluice.core.es import build_client
from tests.conftest import ROOT, es_settings

ORIGIN = {"X-elastic-product-origin": "connectors"}


@dataclass
class CliEnv:
    config: Path
    settings: dict[str, Any]
    capsys: Any
    connector_ids: list[str] = field(default_factory=list)
    indices: list[str] = field(default_factory=list)

    def index_name(self) -> str:
        name = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
        self.indices.append(name)
        return name

    def run(self, *args: str) -> tuple[int, str, str]:
        """`sluice ARGS -c CONFIG` in process: (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        try:
            config = [] if "-c" in args else ["-c", str(self.config)]
            code = main([*args, *config])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def run_process(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sluice", *args, "-c", str(self.config)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )

    def create(self, *extra: str, service_type: str = "dir") -> str:
        code, out, err = self.run(
            "connector",
            "create",
            "--service-type",
            service_type,
            "--name",
            "cli test",
            "--index-name",
            self.index_name(),
            *extra,
        )
        assert code == 0, err
        connector_id = out.strip().splitlines()[-1]
        self.connector_ids.append(connector_id)
        return connector_id

    def remember(self, output: str) -> str:
        connector_id = output.strip().splitlines()[-1]
        self.connector_ids.append(connector_id)
        return connector_id

    def es(self, coro_factory: Any) -> Any:
        async def go() -> Any:
            client = build_client(self.settings)
            try:
                return await coro_factory(client)
            finally:
                await client.close()

        return asyncio.run(go())

    def connector_doc(self, connector_id: str) -> dict[str, Any]:
        async def get(client: Any) -> dict[str, Any]:
            resp = await client.options(headers=ORIGIN).get(
                index=".elastic-connectors", id=connector_id
            )
            return resp["_source"]

        return self.es(get)

    def cleanup(self) -> None:
        async def drop(client: Any) -> None:
            direct = client.options(headers=ORIGIN, ignore_status=404)
            if self.connector_ids:
                await direct.delete_by_query(
                    index=".elastic-connectors-sync-jobs",
                    query={"terms": {"connector.id": self.connector_ids}},
                    refresh=True,
                )
                for connector_id in self.connector_ids:
                    await direct.delete(index=".elastic-connectors", id=connector_id, refresh=True)
            for index in self.indices:
                await client.options(ignore_status=404).indices.delete(index=index)

        self.es(drop)


def cli_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[CliEnv]:
    """Body of each test module's `cli_env` fixture: a config.yml for the cluster under
    test, and cleanup of what the test created."""
    settings = es_settings()
    config = tmp_path / "config.yml"
    config.write_text(
        "# Sluice test config\n"
        + yaml.safe_dump({"elasticsearch": settings, "connectors": []}, sort_keys=False)
    )
    env = CliEnv(config, settings, capsys)
    try:
        yield env
    finally:
        env.cleanup()


def one_line(text: str) -> bool:
    return len([line for line in text.splitlines() if line.strip()]) == 1


def json_out(text: str) -> Any:
    return json.loads(text)


ID_RE = re.compile(r"^[\w-]+$")
