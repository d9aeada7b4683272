"""Elastic's defaults for config.yml, value for value.

Taken from the public `elastic/connectors` repository (`connectors/config.py` `_default_config`,
`config.yml.example`) and the project's protocol notes. A key left out of config.yml means
exactly this value to both Sluice and Elastic's own service, so the two stay interchangeable.
"""

from __future__ import annotations

import copy
from typing import Any

#: Elastic's built-in source classes (service_type -> "module:Class"). Elastic merges these
#: into every config; Sluice keeps them so `sources` reads the same, and tells user-added
#: entries apart with `Config.custom_sources`.
ELASTIC_SOURCES: dict[str, str] = {
    "azure_blob_storage": "connectors.sources.azure_blob_storage:AzureBlobStorageDataSource",
    "box": "connectors.sources.box:BoxDataSource",
    "confluence": "connectors.sources.atlassian.confluence:ConfluenceDataSource",
    "dir": "connectors.sources.directory:DirectoryDataSource",
    "dropbox": "connectors.sources.dropbox:DropboxDataSource",
    "github": "connectors.sources.github:GitHubDataSource",
    "gitlab": "connectors.sources.gitlab:GitLabDataSource",
    "gmail": "connectors.sources.gmail:GMailDataSource",
    "google_cloud_storage": "connectors.sources.google_cloud_storage:GoogleCloudStorageDataSource",
    "google_drive": "connectors.sources.google_drive:GoogleDriveDataSource",
    "graphql": "connectors.sources.graphql:GraphQLDataSource",
    "jira": "connectors.sources.atlassian.jira:JiraDataSource",
    "microsoft_teams": "connectors.sources.microsoft_teams:MicrosoftTeamsDataSource",
    "mongodb": "connectors.sources.mongo:MongoDataSource",
    "mssql": "connectors.sources.mssql:MSSQLDataSource",
    "mysql": "connectors.sources.mysql:MySqlDataSource",
    "network_drive": "connectors.sources.network_drive:NASDataSource",
    "notion": "connectors.sources.notion:NotionDataSource",
    "onedrive": "connectors.sources.onedrive:OneDriveDataSource",
    "oracle": "connectors.sources.oracle:OracleDataSource",
    "outlook": "connectors.sources.outlook:OutlookDataSource",
    "postgresql": "connectors.sources.postgresql:PostgreSQLDataSource",
    "redis": "connectors.sources.redis:RedisDataSource",
    "s3": "connectors.sources.s3:S3DataSource",
    "salesforce": "connectors.sources.salesforce:SalesforceDataSource",
    "sandfly": "connectors.sources.sandfly:SandflyDataSource",
    "servicenow": "connectors.sources.servicenow:ServiceNowDataSource",
    "sharepoint_online": (
        "connectors.sources.sharepoint.sharepoint_online:SharepointOnlineDataSource"
    ),
    "sharepoint_server": (
        "connectors.sources.sharepoint.sharepoint_server:SharepointServerDataSource"
    ),
    "slack": "connectors.sources.slack:SlackDataSource",
    "zoom": "connectors.sources.zoom:ZoomDataSource",
}

#: Elastic's defaults. `connectors` and `extraction_service` are absent from Elastic's own
#: dict; they are listed here with the values their absence means (no connector, no local
#: extraction service) so every consumer can index them without `.get`.
DEFAULTS: dict[str, Any] = {
    "elasticsearch": {
        "host": "http://localhost:9200",
        "username": "elastic",
        "password": "changeme",
        "ssl": True,
        "verify_certs": True,
        "ca_certs": None,
        "request_timeout": 240,
        "retry_on_timeout": True,
        "max_retries": 5,
        "retry_interval": 10,
        "max_wait_duration": 240,
        "initial_backoff_duration": 1,
        "backoff_multiplier": 2,
        "log_level": "info",
        "feature_use_connectors_api": True,
        "bulk": {
            "queue_max_size": 1024,
            "queue_max_mem_size": 25,
            "queue_refresh_interval": 1,
            "queue_refresh_timeout": 1300,
            "display_every": 100,
            "chunk_size": 500,
            "max_concurrency": 5,
            "chunk_max_mem_size": 3,
            "max_text_document_size": 3,
            "max_retries": 5,
            "retry_interval": 10,
            "concurrent_downloads": 10,
            "enable_operations_logging": False,
            "error_monitor": {
                "enabled": True,
                "max_total_errors": 1000,
                "max_consecutive_errors": 10,
                "max_error_rate": 0.15,
                "error_window_size": 100,
                "error_queue_size": 10,
            },
        },
    },
    "service": {
        "idling": 30,
        "heartbeat": 300,
        "preflight_max_attempts": 10,
        "preflight_idle": 30,
        "max_errors": 20,
        "max_errors_span": 600,
        "max_concurrent_content_syncs": 1,
        "max_concurrent_access_control_syncs": 1,
        "max_concurrent_scheduling_tasks": 4,
        "max_file_download_size": 10485760,
        "job_cleanup_interval": 300,
        "log_level": "INFO",
    },
    "connectors": [],
    "sources": dict(ELASTIC_SOURCES),
    "extraction_service": None,
}

#: Defaults of the Sluice-only keys (Elastic's service ignores them, so they are not merged into
#: the config Elastic's service would see): `elasticsearch.bulk.request_timeout` is the seconds
#: a bulk request may go unanswered before it is retried. A healthy cluster answers a
#: 500-document request in well under a second; the general 240 s left a black-holed
#: connection stalling the sync for 4 minutes unseen.
SLUICE_BULK_DEFAULTS: dict[str, Any] = {"request_timeout": 60}

#: What Elastic's content-extraction client assumes for keys missing under
#: `extraction_service` once the section exists.
EXTRACTION_SERVICE_DEFAULTS: dict[str, Any] = {
    "host": None,
    "timeout": 30,
    "use_file_pointers": False,
    "stream_chunk_size": 65536,
    "shared_volume_dir": "/app/files",
}


def default_config() -> dict[str, Any]:
    """A fresh deep copy of `DEFAULTS`, safe to mutate."""
    return copy.deepcopy(DEFAULTS)
