"""The configuration form: Elastic's keys first (same order, types, defaults, `depends_on`
and sensitivity as Elastic's SharePoint Online connector, so a connector record or
`config.yml` works with either service), then Sluice's own."""

from __future__ import annotations

from typing import Any

from sluice.sources.sharepoint_online.clouds import CUSTOM, cloud_options

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
DEFAULT_CONCURRENCY = 8
DEFAULT_THROTTLE_MINUTES = 60

_DLS_NOTE = (
    " Sluice's engine does not apply document level security yet: with this on, let "
    "Elastic's connector service run the connector."
)


def _toggle(label: str, order: int, value: bool, tooltip: str = "", **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {
        "label": label,
        "order": order,
        "type": "bool",
        "display": "toggle",
        "value": value,
    }
    if tooltip:
        field["tooltip"] = tooltip
    field.update(extra)
    return field


def _dls_toggle(label: str, order: int, tooltip: str) -> dict[str, Any]:
    return _toggle(
        label,
        order,
        True,
        tooltip,
        depends_on=[{"field": "use_document_level_security", "value": True}],
    )


def default_configuration() -> dict[str, dict[str, Any]]:
    custom = [{"field": "cloud", "value": CUSTOM}]
    return {
        # ---- Elastic's keys (connectors/sources/sharepoint/sharepoint_online) ----------
        "tenant_id": {"label": "Tenant ID", "order": 1, "type": "str", "value": ""},
        "tenant_name": {
            "label": "Tenant name",
            "order": 2,
            "type": "str",
            "value": "",
            "tooltip": "The <name> of <name>.sharepoint.com, your SharePoint address.",
        },
        "client_id": {"label": "Client ID", "order": 3, "type": "str", "value": ""},
        "auth_method": {
            "label": "Authentication Method",
            "order": 4,
            "type": "str",
            "display": "dropdown",
            "options": [
                {"label": "Client Secret", "value": "secret"},
                {"label": "Certificate", "value": "certificate"},
            ],
            "value": "secret",
            "tooltip": "Certificate is recommended: SharePoint's REST API (site pages, list "
            "item attachments) accepts app-only tokens from certificates only.",
        },
        "secret_value": {
            "label": "Secret value",
            "order": 5,
            "type": "str",
            "sensitive": True,
            "value": "",
            "depends_on": [{"field": "auth_method", "value": "secret"}],
        },
        "certificate": {
            "label": "Content of certificate file",
            "order": 6,
            "type": "str",
            "display": "textarea",
            "sensitive": True,
            "value": "",
            "depends_on": [{"field": "auth_method", "value": "certificate"}],
        },
        "private_key": {
            "label": "Content of private key file",
            "order": 7,
            "type": "str",
            "display": "textarea",
            "sensitive": True,
            "value": "",
            "depends_on": [{"field": "auth_method", "value": "certificate"}],
        },
        "site_collections": {
            "label": "Comma-separated list of sites",
            "order": 8,
            "type": "list",
            "display": "textarea",
            "value": "*",
            "tooltip": "A comma-separated list of sites to ingest data from. If enumerating "
            "all sites, use * to include all available sites, or specify a list of site "
            "names. Otherwise, specify a list of site paths.",
        },
        "enumerate_all_sites": _toggle(
            "Enumerate all sites?",
            9,
            True,
            "If enabled, sites will be fetched in bulk, then filtered down to the configured "
            "list of sites. This is efficient when syncing many sites. If disabled, each "
            "configured site will be fetched with an individual request. This is efficient "
            "when syncing fewer sites.",
        ),
        "fetch_subsites": _toggle(
            "Fetch sub-sites of configured sites?",
            10,
            True,
            "Whether subsites of the configured site(s) should be automatically fetched.",
            depends_on=[{"field": "enumerate_all_sites", "value": False}],
        ),
        "use_text_extraction_service": _toggle(
            "Use text extraction service",
            11,
            False,
            "For Elastic's connector service (a separate Text Extraction Service). Sluice "
            "extracts text itself: see 'Extract text from files'.",
            ui_restrictions=["advanced"],
        ),
        "use_document_level_security": _toggle(
            "Enable document level security",
            12,
            False,
            "Document level security ensures identities and permissions set in Sharepoint "
            "Online are maintained in Elasticsearch." + _DLS_NOTE,
        ),
        "fetch_drive_item_permissions": _dls_toggle(
            "Fetch drive item permissions",
            13,
            "Enable this option to fetch drive item specific permissions. This setting can "
            "increase sync time.",
        ),
        "fetch_unique_page_permissions": _dls_toggle(
            "Fetch unique page permissions",
            14,
            "Enable this option to fetch unique page permissions. This setting can increase "
            "sync time. If this setting is disabled a page will inherit permissions from its "
            "parent site.",
        ),
        "fetch_unique_list_permissions": _dls_toggle(
            "Fetch unique list permissions",
            15,
            "Enable this option to fetch unique list permissions. This setting can increase "
            "sync time. If this setting is disabled a list will inherit permissions from its "
            "parent site.",
        ),
        "fetch_unique_list_item_permissions": _dls_toggle(
            "Fetch unique list item permissions",
            16,
            "Enable this option to fetch unique list item permissions. This setting can "
            "increase sync time. If this setting is disabled a list item will inherit "
            "permissions from its parent site.",
        ),
        # ---- Sluice's own ------------------------------------------------------------
        "cloud": {
            "label": "Cloud",
            "order": 17,
            "type": "str",
            "display": "dropdown",
            "options": cloud_options(),
            "required": False,
            "value": "global",
            "default_value": "global",
            "tooltip": "Microsoft's cloud that holds the tenant: the global one, or a "
            "national cloud (US Government, China) with its own sign-in and Graph hosts.",
        },
        "login_endpoint": {
            "label": "Sign-in endpoint",
            "order": 18,
            "type": "str",
            "required": False,
            "value": "",
            "depends_on": custom,
            "tooltip": "Identity platform host, like https://login.microsoftonline.com.",
        },
        "graph_endpoint": {
            "label": "Microsoft Graph endpoint",
            "order": 19,
            "type": "str",
            "required": False,
            "value": "",
            "depends_on": custom,
            "tooltip": "Graph host without /v1.0, like https://graph.microsoft.com.",
        },
        "sharepoint_domain": {
            "label": "SharePoint domain",
            "order": 20,
            "type": "str",
            "required": False,
            "value": "sharepoint.com",
            "default_value": "sharepoint.com",
            "depends_on": custom,
        },
        "extract_text": _toggle(
            "Extract text from files",
            21,
            True,
            "Index the text of PDF, Office, HTML and text files (extracted on this machine).",
            required=False,
            default_value=True,
        ),
        "max_file_size": {
            "label": "Maximum file size for text extraction (bytes)",
            "order": 22,
            "type": "int",
            "display": "numeric",
            "required": False,
            "value": DEFAULT_MAX_FILE_SIZE,
            "default_value": DEFAULT_MAX_FILE_SIZE,
            "validations": [{"type": "greater_than", "constraint": 0}],
            "ui_restrictions": ["advanced"],
            "tooltip": "Bigger files are indexed without their text (10485760 = 10 MiB).",
        },
        "concurrency": {
            "label": "Concurrent requests",
            "order": 23,
            "type": "int",
            "display": "numeric",
            "required": False,
            "value": DEFAULT_CONCURRENCY,
            "default_value": DEFAULT_CONCURRENCY,
            "validations": [
                {"type": "greater_than", "constraint": 0},
                {"type": "less_than", "constraint": 51},
            ],
            "ui_restrictions": ["advanced"],
            "tooltip": "Requests to Microsoft in flight at once for this tenant (1-50). "
            "Lower it if Microsoft throttles often.",
        },
        "max_throttle_minutes": {
            "label": "Throttling limit (minutes)",
            "order": 24,
            "type": "int",
            "display": "numeric",
            "required": False,
            "value": DEFAULT_THROTTLE_MINUTES,
            "default_value": DEFAULT_THROTTLE_MINUTES,
            "validations": [{"type": "greater_than", "constraint": 0}],
            "ui_restrictions": ["advanced"],
            "tooltip": "A sync waits out Microsoft's throttling; it fails only when one "
            "throttling spell lasts longer than this.",
        },
    }
