"""Sluice core: config, Elasticsearch connection and checks, the connector protocol, the sync
engine and the headless service. Plain Python: nothing here imports Textual."""

__version__ = "0.1.0"
