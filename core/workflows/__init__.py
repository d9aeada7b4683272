"""The application layer: operations made of several writes, shared by every front end.

The CLI and the TUI parse and show; what an operation *does* lives here, once. Each
workflow follows the same rules:

- validate all its input first (names, index names, configuration values, and that each
  value can be stored as JSON), so bad input costs no write;
- check what the cluster already holds before the first write (an index that exists, an
  index name another connector uses);
- undo its own writes when a later step fails — never touching what existed before — and
  say exactly what it left behind when the undo fails too.

Workflows never import `sources` (the layers contract: core is the bottom layer); a caller
passes in what a source provides (its default configuration, features and validator).
"""

from sluice.core.workflows.connect_index import (
    ConnectedIndex,
    IndexConnection,
    IndexNotConnected,
    connect_index,
    connector_key_secret,
)
from sluice.core.workflows.create_connector import (
    ConnectorNotCreated,
    CreatedConnector,
    InvalidConnectorInput,
    NewConnector,
    create_connector,
    create_draft_connector,
    validate_new_connector,
)
from sluice.core.workflows.job_failures import (
    export_job_failures,
    job_failures,
    local_failure_log,
)
from sluice.core.workflows.storable import storage_problem

__all__ = [
    "ConnectedIndex",
    "ConnectorNotCreated",
    "CreatedConnector",
    "IndexConnection",
    "IndexNotConnected",
    "InvalidConnectorInput",
    "NewConnector",
    "connect_index",
    "connector_key_secret",
    "create_connector",
    "create_draft_connector",
    "export_job_failures",
    "job_failures",
    "local_failure_log",
    "storage_problem",
    "validate_new_connector",
]
