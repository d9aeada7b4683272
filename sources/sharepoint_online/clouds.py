"""Microsoft's clouds: where to sign in, where Graph answers, SharePoint's domain.

Microsoft runs separate national clouds with their own hosts; a tenant lives in exactly one.
Source: Microsoft Graph "National cloud deployments" and the identity platform's authority
hosts. `custom` takes the three values from the configuration (a proxy, a test double).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Cloud:
    key: str
    label: str
    login: str  # identity platform authority host
    graph: str  # Microsoft Graph root (without /v1.0)
    sharepoint_domain: str  # {tenant}.{domain} is the tenant's SharePoint host
    portal: str  # where the app registration is managed

    def token_url(self, tenant_id: str) -> str:
        return f"{self.login}/{tenant_id}/oauth2/v2.0/token"

    def admin_consent_url(self, tenant_id: str, client_id: str) -> str:
        """Where a Global or Privileged Role Administrator grants the app's permissions."""
        tenant = tenant_id or "<tenant id>"
        return f"{self.login}/{tenant}/adminconsent?client_id={client_id or '<client id>'}"

    def sharepoint_host(self, tenant_name: str) -> str:
        return f"{tenant_name}.{self.sharepoint_domain}"


CLOUDS: dict[str, Cloud] = {
    cloud.key: cloud
    for cloud in (
        Cloud(
            "global",
            "Global (commercial, GCC)",
            "https://login.microsoftonline.com",
            "https://graph.microsoft.com",
            "sharepoint.com",
            "https://entra.microsoft.com",
        ),
        Cloud(
            "us_gov_high",
            "US Government GCC High",
            "https://login.microsoftonline.us",
            "https://graph.microsoft.us",
            "sharepoint.us",
            "https://portal.azure.us",
        ),
        Cloud(
            "us_gov_dod",
            "US Government DoD",
            "https://login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
            "sharepoint-mil.us",
            "https://portal.azure.us",
        ),
        Cloud(
            "china",
            "China (operated by 21Vianet)",
            "https://login.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "sharepoint.cn",
            "https://portal.azure.cn",
        ),
    )
}
CUSTOM = "custom"


def cloud_of(values: dict[str, Any]) -> Cloud:
    """The configured cloud; `custom` builds one from the endpoint fields."""
    key = str(values.get("cloud") or "global")
    if key != CUSTOM:
        return CLOUDS.get(key, CLOUDS["global"])
    return Cloud(
        CUSTOM,
        "Custom endpoints",
        str(values.get("login_endpoint") or CLOUDS["global"].login).rstrip("/"),
        str(values.get("graph_endpoint") or CLOUDS["global"].graph).rstrip("/"),
        str(values.get("sharepoint_domain") or "sharepoint.com").strip(".").lower(),
        "",
    )


def cloud_options() -> list[dict[str, str]]:
    """The dropdown's options, Elastic's format."""
    options = [{"label": cloud.label, "value": cloud.key} for cloud in CLOUDS.values()]
    options.append({"label": "Custom endpoints", "value": CUSTOM})
    return options
