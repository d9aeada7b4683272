"""Elasticsearch connection: the one client factory the whole program uses."""

from core.es.client import build_client

__all__ = ["build_client"]
