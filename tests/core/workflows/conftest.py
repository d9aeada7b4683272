"""The connector-store backends of tests/core/protocol (private indices per test), reused:
a workflow must behave the same on the Connector API and on direct index access."""

from tests.core.protocol.conftest import harness, index_prefix

__all__ = ["harness", "index_prefix"]
