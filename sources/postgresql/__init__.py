"""The `postgresql` source. Elastic's class path for it is
`connectors.sources.postgresql:PostgreSQLDataSource`."""

from sluice.sources.postgresql.source import PostgreSQLSource

__all__ = ["PostgreSQLSource"]
