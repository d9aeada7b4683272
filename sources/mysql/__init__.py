"""The `mysql` source (MySQL and MariaDB). Elastic's class path for it is
`connectors.sources.mysql:MySqlDataSource`."""

from sluice.sources.mysql.source import MySQLSource

__all__ = ["MySQLSource"]
