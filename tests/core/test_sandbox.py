"""The local sandbox starts on a free loopback port, answers like Elasticsearch, and stops."""

import httpx
import pytest

from core.sandbox import SandboxError, sandbox_available, start_sandbox, stop_sandbox

pytestmark = pytest.mark.skipif(not sandbox_available(), reason="sandbox extra not installed")


def test_sandbox_starts_indexes_and_stops(tmp_path):
    sandbox = start_sandbox(tmp_path / "sandbox")
    try:
        assert sandbox.url.startswith("http://127.0.0.1:")
        info = httpx.get(sandbox.url, timeout=5).json()
        assert info["version"]["number"].startswith("8.")
        resp = httpx.put(f"{sandbox.url}/sandbox-probe/_doc/1?refresh=true", json={"a": 1})
        assert resp.status_code in (200, 201)
    finally:
        stop_sandbox(sandbox)
    assert not sandbox.running
    assert (tmp_path / "sandbox" / "server.log").exists()


def test_sandbox_reuses_requested_port_when_free(tmp_path):
    first = start_sandbox(tmp_path / "sb")
    port = first.port
    stop_sandbox(first)
    second = start_sandbox(tmp_path / "sb", port=port)
    try:
        assert second.port == port
        # data persisted in the data dir across restarts
        assert httpx.get(f"{second.url}/_cluster/health", timeout=5).status_code == 200
    finally:
        stop_sandbox(second)


def test_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("core.sandbox.sandbox_binary", lambda: None)
    with pytest.raises(SandboxError, match="sluice\\[sandbox\\]"):
        start_sandbox(tmp_path)
