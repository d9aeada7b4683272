"""Elastic's defaults, value for value (from elastic/connectors `connectors/config.py`)."""

from __future__ import annotations

from sluice.core.config import DEFAULTS, ELASTIC_SOURCES, config_from_text

#: `_default_config()["sources"]` of elastic/connectors main.
ELASTIC_MAIN_SOURCES = {
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


def test_sources_are_elastics_current_map_entry_for_entry():
    assert ELASTIC_SOURCES == ELASTIC_MAIN_SOURCES
    assert DEFAULTS["sources"] == ELASTIC_MAIN_SOURCES
    config = config_from_text("", environ={})
    assert config.sources == ELASTIC_MAIN_SOURCES
    assert config.custom_sources == {}


def test_connectors_api_flag_defaults_to_true_like_elastic():
    assert DEFAULTS["elasticsearch"]["feature_use_connectors_api"] is True
