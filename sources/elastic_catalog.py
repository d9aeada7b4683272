"""Every service type of Elastic's connector service (9.6, its `sources:` map), with what a
user must prepare at the source first and Elastic's reference page. Facts from Elastic's
public documentation and code; Sluice runs some of these itself (see `registry.BUILT_IN`).
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS = "https://www.elastic.co/docs/reference/search-connectors/"


@dataclass(frozen=True)
class ElasticType:
    """One connector type of Elastic's service."""

    service_type: str
    display_name: str
    category: str
    description: str
    needs: tuple[str, ...]
    docs_page: str  # page name under DOCS

    @property
    def docs_url(self) -> str:
        return DOCS + self.docs_page


CATEGORIES = (
    "File storage",
    "Databases",
    "Collaboration",
    "Productivity & mail",
    "Developer tools",
    "Business apps",
    "Other",
)

ELASTIC_TYPES: tuple[ElasticType, ...] = (
    ElasticType(
        "s3",
        "Amazon S3",
        "File storage",
        "Objects of the chosen Amazon S3 buckets, with their content extracted.",
        (
            "an IAM identity with an access key ID and a secret access key",
            "IAM actions s3:ListAllMyBuckets, s3:ListBucket, s3:GetBucketLocation, s3:GetObject",
            "the bucket names (Amazon S3 only: S3-compatible vendors are not supported)",
        ),
        "es-connectors-s3",
    ),
    ElasticType(
        "azure_blob_storage",
        "Azure Blob Storage",
        "File storage",
        "Blobs of the chosen Azure Blob Storage containers, with their content extracted.",
        (
            "a storage account name and one of its account access keys",
            "the Blob service endpoint of that storage account",
            "the names of the containers to sync (or * for all)",
        ),
        "es-connectors-azure-blob",
    ),
    ElasticType(
        "box",
        "Box",
        "File storage",
        "Files and folders of a Box free or enterprise account.",
        (
            "a Box Custom App with the scope 'Write all files and folders stored in Box'",
            "free: a User Authentication (OAuth 2.0) app, its client ID/secret, a refresh token",
            "enterprise: a Client Credentials Grant app, App + Enterprise Access, as-user header",
            "enterprise: the app authorized in the Admin Console, and the enterprise ID",
        ),
        "es-connectors-box",
    ),
    ElasticType(
        "confluence",
        "Confluence",
        "Collaboration",
        "Spaces, pages, blog posts and attachments of Confluence Cloud, Server or Data Center.",
        (
            "Cloud: an Atlassian account email and an API token",
            "Server: a username and password; Data Center: those or a personal access token",
            "read access to the spaces to sync (their space keys, or * for all)",
            "DLS on Server or Data Center: the Extender for Confluence app installed",
        ),
        "es-connectors-confluence",
    ),
    ElasticType(
        "dropbox",
        "Dropbox",
        "File storage",
        "Files and folders of a Dropbox account, from a chosen folder path down.",
        (
            "a Dropbox app (Full Dropbox API) and its app key and app secret",
            "scopes files.content.read, files.metadata.read, sharing.read and account_info.read",
            "a refresh token from the OAuth code flow (token_access_type=offline)",
            "for DLS also: team_info.read, team_data.member, team_data.content.read, members.read",
        ),
        "es-connectors-dropbox",
    ),
    ElasticType(
        "github",
        "GitHub",
        "Developer tools",
        "Repositories, issues, pull requests and Markdown files of GitHub or GitHub Server.",
        (
            "a classic personal access token with the scopes repo, user and read:org",
            "or a GitHub App with read-only Contents, Issues, Metadata and Pull requests",
            "the App also read-only on Commit statuses, Members; installed; app ID, private key",
            "GitHub Server only: the server URL, and its CA certificate if it is private",
        ),
        "es-connectors-github",
    ),
    ElasticType(
        "gitlab",
        "GitLab",
        "Developer tools",
        "Projects, issues, merge requests, epics, releases and READMEs of gitlab.com.",
        (
            "a gitlab.com personal access token with the scopes api, read_api and read_repository",
            "that token's user a member of the projects to sync (no GitLab Self-Managed support)",
            "a Premium or Ultimate tier if group epics should be synced too",
        ),
        "es-connectors-gitlab",
    ),
    ElasticType(
        "gmail",
        "Gmail",
        "Productivity & mail",
        "The mail messages of every user of a Google Workspace domain.",
        (
            "a Google Cloud project with the Gmail API and the Admin SDK API enabled",
            "a service account and its JSON key, granted domain-wide delegation by a super admin",
            "scopes gmail.readonly, admin.directory.user.readonly, admin.directory.group.readonly",
            "a Workspace admin email to impersonate, and the customer ID (Admin console, Account)",
        ),
        "es-connectors-gmail",
    ),
    ElasticType(
        "google_cloud_storage",
        "Google Cloud Storage",
        "File storage",
        "Objects of the chosen Google Cloud Storage buckets, with their content extracted.",
        (
            "a service account and its JSON key",
            "permissions storage.buckets.list, storage.objects.list and storage.objects.get",
            "plus resourcemanager.projects.get and serviceusage.services.use on the project",
        ),
        "es-connectors-google-cloud",
    ),
    ElasticType(
        "google_drive",
        "Google Drive",
        "File storage",
        "Files and folders of Google Drive and shared drives, Google Docs included.",
        (
            "a Google Cloud project with the Drive API (and Admin SDK API for delegation or DLS)",
            "a service account and its JSON key, with at least the drive.readonly scope",
            "the folders or shared drives to sync shared with the service account as viewer",
            "or domain-wide delegation (drive, drive.metadata, directory readonly) + admin email",
        ),
        "es-connectors-google-drive",
    ),
    ElasticType(
        "graphql",
        "GraphQL",
        "Developer tools",
        "Objects returned by a GraphQL query against any GraphQL HTTP endpoint.",
        (
            "the GraphQL HTTP endpoint URL",
            "credentials if it needs them: a username and password (Basic) or a bearer token",
            "a query, and the path of each object to index with its ID field",
            "cursor pagination: pageInfo { endCursor hasNextPage } and an after variable",
        ),
        "es-connectors-graphql",
    ),
    ElasticType(
        "jira",
        "Jira",
        "Collaboration",
        "Projects, issues and attachments of Jira Cloud, Server or Data Center.",
        (
            "Cloud: an Atlassian account email and an API token",
            "Server: a username and password; Data Center: those or a personal access token",
            "read access to the projects to sync (their project keys, or * for all)",
            "for DLS: Product Admin access to Jira Administration for that account",
        ),
        "es-connectors-jira",
    ),
    ElasticType(
        "mssql",
        "Microsoft SQL Server",
        "Databases",
        "Rows of the chosen tables of a Microsoft SQL Server database, one document each.",
        (
            "a SQL Server Authentication login (Windows Authentication is not supported)",
            "the sysadmin server role for that login, as Elastic's docs require",
            "primary keys on the tables to sync (tables without one are skipped)",
            "the database and schema (dbo by default), and the CA certificate if SSL is verified",
        ),
        "es-connectors-ms-sql",
    ),
    ElasticType(
        "microsoft_teams",
        "Microsoft Teams",
        "Collaboration",
        "Teams, channels, chats, messages, meetings and attachments of Microsoft Teams.",
        (
            "an Entra ID app (tenant ID, client ID, client secret) and a user's name and password",
            "delegated: Team.ReadBasic.All, TeamMember.Read.All, TeamsTab.Read.All, Group.Read.All",
            "delegated: ChannelMessage.Read.All, Chat.Read, Chat.ReadBasic (admin consent to all)",
            "application: Chat.Read.All, Chat.ReadBasic.All; both: Files.Read.All, Calendars.Read",
        ),
        "es-connectors-teams",
    ),
    ElasticType(
        "mongodb",
        "MongoDB",
        "Databases",
        "Documents of one MongoDB collection, one Elasticsearch document each.",
        (
            "a read-only MongoDB (3.6+ or Atlas) user with access to the database and collection",
            "the connection URI (mongodb:// or mongodb+srv://); SSL/TLS on for Atlas SRV hosts",
        ),
        "es-connectors-mongodb",
    ),
    ElasticType(
        "mysql",
        "MySQL",
        "Databases",
        "Rows of the chosen tables of a MySQL or MariaDB database, one document each.",
        (
            "a MySQL 5.6+ or MariaDB user, read-only suggested, with access to the database",
            "read access to the tables to sync, and network access to the host and port",
            "primary keys on the tables (tables without one are skipped)",
            "the server's CA certificate if SSL is enabled",
        ),
        "es-connectors-mysql",
    ),
    ElasticType(
        "network_drive",
        "Network Drive",
        "File storage",
        "Files and folders of an SMB (v2/v3) network share on Windows or Linux.",
        (
            "the SMB server IP and port (445 by default) and the shared folder path",
            "an account with at least read permission on that folder",
            "for DLS on Windows: that account allowed to use PowerShell (WinRM) on the server",
            "for DLS on Linux: a CSV file mapping each username to its user and group SIDs",
        ),
        "es-connectors-network-drive",
    ),
    ElasticType(
        "notion",
        "Notion",
        "Collaboration",
        "Pages, databases, blocks, users and optionally comments of a Notion workspace.",
        (
            "an internal integration for the workspace, and its secret",
            "its capabilities: read content, read comments and read user information",
            "the integration added as a connection to each top-level page to sync",
        ),
        "es-connectors-notion",
    ),
    ElasticType(
        "onedrive",
        "OneDrive",
        "File storage",
        "Files and folders in the OneDrive of every user of a Microsoft 365 tenant.",
        (
            "an Entra ID app registration (tenant ID, client ID) with a client secret",
            "Graph application permissions User.Read.All and Files.Read.All",
            "admin consent granted to those permissions",
        ),
        "es-connectors-onedrive",
    ),
    ElasticType(
        "oracle",
        "Oracle Database",
        "Databases",
        "Rows of the tables the connecting user owns in an Oracle database.",
        (
            "an Oracle 18c/19c/21c user with CONNECT and DBA privileges, as Elastic's docs require",
            "tables owned by that user (only its own are listed), each with a primary key",
            "the SID or the service name (the service name for a pluggable database)",
            "for TCPS: an Oracle home and an SSL wallet on the connector's machine",
        ),
        "es-connectors-oracle",
    ),
    ElasticType(
        "outlook",
        "Outlook",
        "Productivity & mail",
        "Mail, contacts, calendar events, tasks and attachments of Office 365 or Exchange.",
        (
            "Office 365: an Entra ID app (tenant ID, client ID) with a client secret",
            "Office 365: full_access_as_app (Exchange Online) and User.Read.All, admin-consented",
            "Exchange Server: the Exchange and Active Directory server addresses, the domain name",
            "Exchange Server: a username and password",
        ),
        "es-connectors-outlook",
    ),
    ElasticType(
        "postgresql",
        "PostgreSQL",
        "Databases",
        "Rows of the chosen tables of a PostgreSQL schema, one document each.",
        (
            "a PostgreSQL (11 to 15) user that can read the database, schema and tables to sync",
            "track_commit_timestamp = on, or every sync reindexes every table in full",
            "primary keys on the tables (tables without one are skipped)",
            "the server's CA certificate if SSL verification is enabled",
        ),
        "es-connectors-postgresql",
    ),
    ElasticType(
        "redis",
        "Redis",
        "Databases",
        "Keys and their values from the chosen Redis databases.",
        (
            "network access to the Redis host and port",
            "a username and password if the server requires authentication",
            "the database indexes to sync (or * for all)",
            "for mutual TLS: a client certificate and its private key",
        ),
        "es-connectors-redis",
    ),
    ElasticType(
        "salesforce",
        "Salesforce",
        "Business apps",
        "Accounts, contacts, leads, opportunities, cases, campaigns, custom objects and files.",
        (
            "a connected app with Client Credentials Flow enabled, its consumer key and secret",
            "OAuth scopes api and refresh_token, offline_access",
            "a run-as user for the flow with Read on the objects to sync (system admin by default)",
            "the My Domain name (foo for foo.my.salesforce.com, foo.sandbox for a sandbox)",
        ),
        "es-connectors-salesforce",
    ),
    ElasticType(
        "sandfly",
        "Sandfly Security",
        "Other",
        "Scan results, hosts and SSH keys from a Sandfly Security server.",
        (
            "a Sandfly Security server with API v4, and its URL (https://host/v4)",
            "a username and password on that server",
            "a Sandfly license that allows Elasticsearch replication",
        ),
        "es-connectors-sandfly",
    ),
    ElasticType(
        "servicenow",
        "ServiceNow",
        "Business apps",
        "Records and attachments of ServiceNow tables (incidents, knowledge, users, ...).",
        (
            "a ServiceNow account (username and password) and the instance URL",
            "read access for that account to the tables (services) to sync and their attachments",
            "for DLS: read access to sys_security_acl, sys_user_role, sys_user_has_role, sys_user",
        ),
        "es-connectors-servicenow",
    ),
    ElasticType(
        "sharepoint_online",
        "SharePoint Online",
        "Collaboration",
        "Sites, lists, document libraries and files of Microsoft 365 SharePoint.",
        (
            "an Entra ID app (tenant ID and name, client ID) with a certificate uploaded",
            "Graph application permissions Files.Read.All, Group.Read.All, User.Read.All",
            "Sites.Selected with read granted per site, or Sites.Read.All; admin consent to all",
            "for DLS: the SharePoint application permission Sites.FullControl.All",
        ),
        "es-connectors-sharepoint-online",
    ),
    ElasticType(
        "sharepoint_server",
        "SharePoint Server",
        "Collaboration",
        "Sites, lists, list items and document libraries of SharePoint Server 2013-2019.",
        (
            "an account that signs in with Basic or NTLM authentication",
            "read access for that account to the site collections to sync",
            "the server's host URL, and its CA certificate if SSL is verified",
        ),
        "es-connectors-sharepoint",
    ),
    ElasticType(
        "slack",
        "Slack",
        "Collaboration",
        "Public channels, their messages and optionally the users of a Slack workspace.",
        (
            "a Slack app installed in the workspace, and its Bot User OAuth Token",
            "bot scopes channels:history, channels:read, users:read (channels:join to auto-join)",
            "the bot invited to each public channel to sync, unless it joins them itself",
        ),
        "es-connectors-slack",
    ),
    ElasticType(
        "dir",
        "System Directory",
        "File storage",
        "Files under a folder on the machine that runs the connector service.",
        (
            "the folder on the machine that runs the connector service",
            "read access to it for the user running the service",
            "a glob pattern for the files to take (**/*.* by default)",
        ),
        "connector-reference",  # no page of its own: the list of connector references
    ),
    ElasticType(
        "zoom",
        "Zoom",
        "Productivity & mail",
        "Users, meetings, recordings, chat channels, messages and files of a Zoom account.",
        (
            "an activated Server-to-Server OAuth app (account ID, client ID, secret) with scopes:",
            "user:read:list_users:admin (the minimum), meeting:read:list_past_participants:admin",
            "cloud_recording:read:list_user_recordings:admin, meeting:read:list_meetings:admin",
            "team_chat:read:list_user_channels:admin, team_chat:read:list_user_messages:admin",
        ),
        "es-connectors-zoom",
    ),
)
