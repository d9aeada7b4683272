"""Microsoft's error answers, as messages a person can act on, on the field they concern.

The identity platform answers a failed token request with an AADSTS code (its documented
`error_codes`, e.g. AADSTS7000215 for a wrong secret); Graph answers with an error `code`
(`accessDenied`, `itemNotFound`, ...). Each known case becomes a `SourceError` naming the
field, the problem and the fix, and cites Microsoft's code so a search finds Microsoft's
page. Unknown codes keep Microsoft's first sentence.
"""

from __future__ import annotations

import re
from typing import Any

from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    SourceError,
)
from sluice.sources.sharepoint_online.clouds import Cloud


class SiteNotFoundError(SourceError):
    """A configured site does not exist (or the app may not see it)."""


class NoAdminConsentError(InsufficientPrivilegesError):
    """The app's token carries no roles: no permission was granted admin consent."""


class ThrottledTooLongError(SourceError):
    """Microsoft kept throttling past the configured limit."""


def aadsts_code(body: Any) -> int | None:
    if isinstance(body, dict):
        codes = body.get("error_codes")
        if isinstance(codes, list) and codes and isinstance(codes[0], int):
            return codes[0]
        match = re.match(r"AADSTS(\d+)", str(body.get("error_description", "")))
        if match:
            return int(match.group(1))
    return None


def first_sentence(body: Any) -> str:
    """Microsoft's own words, without the trace and correlation ids."""
    text = ""
    if isinstance(body, dict):
        text = str(body.get("error_description") or body.get("error") or "")
    text = re.split(r"\s*(?:\r?\n|Trace ID:)", text, maxsplit=1)[0]
    text = re.sub(r"^AADSTS\d+:\s*", "", text).strip()
    return text[:300]


def token_problem(
    body: Any,
    status: int,
    *,
    cloud: Cloud,
    tenant_id: str,
    tenant_name: str,
    client_id: str,
    auth_method: str,
) -> SourceError:
    """The error for a refused token request."""
    code = aadsts_code(body)
    cite = f" (AADSTS{code})" if code else f" (HTTP {status})"
    portal = cloud.portal or "the Microsoft Entra admin center"
    credential_field = "secret_value" if auth_method == "secret" else "certificate"
    if code in (90002, 90072):
        return AuthenticationError(
            f"Microsoft has no tenant '{tenant_id}'{cite}.",
            "Copy the Directory (tenant) ID from the app's Overview page in "
            f"{portal}; check 'Cloud' if the tenant is in a national cloud.",
            fields=["tenant_id"],
        )
    if code == 900023:
        return ConfigurationError(
            {
                "tenant_id": f"'Tenant ID' {tenant_id!r} is not a tenant id{cite}: it is a GUID "
                "like 72f988bf-86f1-41af-91ab-2d7cd011db47 (the app's Overview page shows it)."
            }
        )
    if code == 90038:
        return AuthenticationError(
            f"The tenant belongs to another Microsoft cloud{cite}: {first_sentence(body)}",
            "Pick that cloud in 'Cloud'.",
            fields=["cloud"],
        )
    if code in (700016, 700011):
        return AuthenticationError(
            f"No app with Client ID '{client_id}' is registered in tenant '{tenant_id}'{cite}.",
            "Copy the Application (client) ID from the app's Overview page, and check that "
            "the app was registered in this tenant (not in another directory).",
            fields=["client_id"],
        )
    if code == 7000112:
        return AuthenticationError(
            f"The app '{client_id}' is disabled in the tenant{cite}.",
            "Enable it under Enterprise applications > Properties > 'Enabled for users to "
            "sign-in'.",
            fields=["client_id"],
        )
    if code == 7000215:
        return AuthenticationError(
            f"Microsoft rejected the client secret{cite}.",
            "Paste the secret's Value (shown once when created), not its Secret ID; or "
            "create a new secret under Certificates & secrets.",
            fields=["secret_value"],
        )
    if code == 7000222:
        return AuthenticationError(
            f"The client secret has expired{cite}.",
            "Create a new client secret under Certificates & secrets and paste its Value "
            "(or switch to a certificate).",
            fields=["secret_value"],
        )
    if code in (700027, 700023, 50027, 700021):
        return AuthenticationError(
            f"Microsoft rejected the certificate assertion{cite}: {first_sentence(body)}",
            "Upload this certificate (the .crt/.pem, public part) to the app under "
            "Certificates & secrets > Certificates, and use the private key created with it.",
            fields=["certificate"],
        )
    if code == 700024:
        return AuthenticationError(
            f"The certificate assertion is outside its valid time{cite}.",
            "This machine's clock is off: synchronise it (timedatectl set-ntp true).",
            fields=["certificate"],
        )
    if code == 500011:
        return AuthenticationError(
            f"'{cloud.sharepoint_host(tenant_name)}' is not this tenant's SharePoint{cite}.",
            "Set 'Tenant name' to the name in your SharePoint address "
            "(https://<tenant name>.sharepoint.com).",
            fields=["tenant_name"],
        )
    if code == 7000218:
        return AuthenticationError(
            f"The token request carried no credential{cite}.",
            "Fill in the secret or the certificate and key for the chosen authentication method.",
            fields=[credential_field],
        )
    if code == 53003:
        return AuthenticationError(
            f"A Conditional Access policy blocks the app{cite}.",
            "Ask your Entra administrator to exclude this app (or this machine's address) "
            "from the policy.",
            fields=["client_id"],
        )
    return AuthenticationError(
        f"Microsoft refused the sign-in{cite}: {first_sentence(body) or 'no reason given'}",
        "Check 'Tenant ID', 'Client ID' and the credential.",
        fields=["tenant_id", "client_id", credential_field],
    )


def graph_error_of(body: Any) -> tuple[str, str]:
    """(code, message) of a Graph or SharePoint REST error body."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or ""), str(error.get("message") or "")
        odata = body.get("odata.error")
        if isinstance(odata, dict):
            message = odata.get("message")
            text = message.get("value") if isinstance(message, dict) else message
            return str(odata.get("code") or ""), str(text or "")
        if "error_description" in body:
            return str(body.get("error") or ""), str(body["error_description"])
    return "", ""


def access_problem(
    status: int, body: Any, *, what: str, permission: str, consent_url: str, rest: bool = False
) -> SourceError:
    """A 401/403 from Graph or SharePoint, as what to grant."""
    code, message = graph_error_of(body)
    cite = f" (HTTP {status}{', ' + code if code else ''})"
    if "roles claim" in message or "scp or roles" in message:
        return NoAdminConsentError(
            f"The app has no application permission granted in this tenant{cite}: "
            f"Microsoft's token carries no roles.",
            f"Grant admin consent to the app's API permissions: {consent_url}",
            fields=["client_id"],
        )
    if rest and "Unsupported app only token" in message:
        return AuthenticationError(
            f"SharePoint refused a token obtained with a client secret while reading {what}"
            f"{cite}: SharePoint's REST API accepts app-only tokens from certificates only.",
            "Set 'Authentication Method' to Certificate.",
            fields=["auth_method"],
        )
    api = "SharePoint" if rest else "Microsoft Graph"
    return InsufficientPrivilegesError(
        f"The app may not read {what}{cite}.",
        f"Add the {api} application permission '{permission}' to the app (API permissions > "
        f"Add a permission > {api} > Application permissions), then grant admin consent: "
        f"{consent_url}",
        fields=["client_id"],
    )


def unreachable(host: str, reason: str, field: str = "cloud") -> HostUnreachableError:
    return HostUnreachableError(
        f"Cannot reach {host}: {reason}.",
        "Check this machine's network, proxy and firewall (HTTPS to Microsoft's hosts), and "
        "'Cloud' for a national-cloud tenant.",
        fields=[field],
    )
