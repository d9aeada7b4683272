"""Helper servers (stunnel TLS endpoints, nginx basic auth, the fake secured Elasticsearch)."""

from tests.servers.fixtures import *  # noqa: F403
