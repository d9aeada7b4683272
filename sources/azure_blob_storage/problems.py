"""Azure Blob Storage's answers, in words a person can act on, attached to the field at fault.

Codes from the Blob service's error codes (rest/api/storageservices/blob-service-error-codes
and common-rest-api-error-codes in Microsoft's docs). Azurite, the emulator, answers a wrong
key or signature with AuthorizationFailure where Azure says AuthenticationFailed, and an
unknown account with ResourceNotFound where Azure's name does not resolve.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sluice.sources.azure_blob_storage.client import AzureSettings, sas_fields
from sluice.sources.errors import (
    AuthenticationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
    TLSError,
)

#: The credentials were refused (wrong key or signature, expired or revoked SAS).
REJECTED = frozenset({"AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo"})
#: The credentials are right but may not do this.
NOT_ALLOWED = frozenset({"AuthorizationPermissionMismatch", "InsufficientAccountPermissions"})
#: Answers that mean "try again later".
TRANSIENT_CODES = frozenset({"ServerBusy", "InternalError", "OperationTimedOut"})

KEY = "account_key"
SAS = "sas_token"
ENDPOINT = "blob_endpoint"
ACCOUNT = "account_name"
CONTAINERS = "containers"


def error_code(error: BaseException) -> str:
    """The service's error code of an `HttpResponseError` ("" for anything else)."""
    code: Any = getattr(error, "error_code", None)
    if code is None:
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code")
    return str(getattr(code, "value", code) or "")


def status_of(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(error: BaseException) -> bool:
    from azure.core.exceptions import ServiceResponseError

    if isinstance(error, (ServiceResponseError, ConnectionError, TimeoutError)):
        return True
    return error_code(error) in TRANSIENT_CODES or status_of(error) in {500, 503}


def is_service_sas(settings: AzureSettings) -> bool:
    """A SAS for one container or blob (it has `sr`), not for the account."""
    return bool(settings.sas_token) and "sr" in sas_fields(settings.sas_token)


def connection_problem(error: BaseException, settings: AzureSettings) -> SourceError | None:
    """Unreachable endpoint, TLS, unknown account, refused credentials; None when it is
    none of those."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    endpoint = settings.blob_endpoint
    if isinstance(error, ServiceRequestError):
        return _request_problem(error, settings)
    if isinstance(error, ServiceResponseError):
        return HostUnreachableError(
            f"{endpoint} closed the connection before answering ({_first_line(error)}).",
            "Check that the address is the storage account's blob endpoint, then try again.",
            fields=[ENDPOINT],
        )
    code = error_code(error)
    if code in REJECTED:
        return sas_rejected(settings, code) if settings.sas_token else key_rejected(settings, code)
    if code == "ResourceNotFound":
        return unknown_account(settings, f"{endpoint} has no storage account by that name")
    if code == "AccountIsDisabled":
        return AuthenticationError(
            f"The storage account {settings.account_name!r} is disabled.",
            "Ask the subscription's owner to enable it, or use another account.",
            fields=[ACCOUNT],
        )
    if code == "AuthorizationSourceIPMismatch":
        return InsufficientPrivilegesError(
            "The SAS token only admits other IP addresses than this machine's (its sip).",
            "Generate a SAS without an IP range, or with one that includes this machine.",
            fields=[SAS],
        )
    if code == "AuthorizationProtocolMismatch":
        return InsufficientPrivilegesError(
            "The SAS token is for HTTPS only, and the blob endpoint is http://.",
            "Use the https:// blob endpoint (or a SAS allowing HTTP and HTTPS).",
            fields=[ENDPOINT, SAS],
        )
    if code == "AuthorizationServiceMismatch":
        return InsufficientPrivilegesError(
            "The SAS token is not for the Blob service.",
            "Generate an account SAS with the Blob service allowed (ss=b).",
            fields=[SAS],
        )
    if code == "AuthorizationResourceTypeMismatch":
        return InsufficientPrivilegesError(
            "The account SAS token does not cover containers and blobs.",
            "Generate it with the allowed resource types Container and Object (srt=co; "
            "add Service, srt=sco, to read every container with '*').",
            fields=[SAS],
        )
    return None


def _request_problem(error: BaseException, settings: AzureSettings) -> SourceError:
    """The request never reached the service: TLS, a name that does not resolve, nothing
    listening."""
    import ssl

    from urllib3.exceptions import NameResolutionError, SSLError

    endpoint = settings.blob_endpoint
    host = urlsplit(endpoint).hostname or endpoint
    causes = list(_causes(error))
    if any(isinstance(cause, (ssl.SSLError, SSLError)) for cause in causes):
        return TLSError(
            f"The TLS handshake with {endpoint} failed: {_first_line(error)}.",
            "Check that the endpoint speaks HTTPS with a certificate this machine trusts "
            "(or give http:// for a local emulator).",
            fields=[ENDPOINT],
        )
    unresolved = any(isinstance(cause, NameResolutionError) for cause in causes) or (
        "Failed to resolve" in str(error)
    )
    if unresolved and ".blob.core." in host:
        return unknown_account(settings, f"{host} does not resolve")
    if unresolved:
        return HostUnreachableError(
            f"The blob endpoint's host {host} does not resolve.",
            "Check 'Azure Blob Storage blob endpoint' (https://ACCOUNT.blob.core.windows.net) "
            "and this machine's DNS.",
            fields=[ENDPOINT],
        )
    return HostUnreachableError(
        f"Nothing answers at {endpoint} ({_first_line(error)}).",
        "Check 'Azure Blob Storage blob endpoint' (https://ACCOUNT.blob.core.windows.net, or "
        "the emulator's address and port) and that this machine can reach it.",
        fields=[ENDPOINT],
    )


def unknown_account(settings: AzureSettings, evidence: str) -> AuthenticationError:
    return AuthenticationError(
        f"There is no storage account named {settings.account_name!r} ({evidence}).",
        "Copy the account's name from the Azure portal (Storage accounts) into 'Azure Blob "
        "Storage account name', and its blob endpoint into 'Azure Blob Storage blob endpoint'.",
        fields=[ACCOUNT],
    )


def key_rejected(settings: AzureSettings, code: str) -> AuthenticationError:
    return AuthenticationError(
        f"{settings.blob_endpoint} rejected the account key of {settings.account_name!r} "
        f"({code}): the key does not match the account.",
        "Copy key1 or key2 from the storage account's 'Access keys' page in the Azure portal "
        "into 'Azure Blob Storage account key' (keys change when they are rotated).",
        fields=[KEY],
    )


def sas_rejected(settings: AzureSettings, code: str) -> AuthenticationError:
    """A refused SAS: expired, not valid yet, or signed with another key (or revoked)."""
    fields = sas_fields(settings.sas_token)
    now = datetime.now(UTC)
    expiry = _moment(fields.get("se", ""))
    start = _moment(fields.get("st", ""))
    renew = "Generate a new SAS token (Read and List, sp=rl) and paste it into 'SAS token'."
    if expiry is not None and expiry <= now:
        return AuthenticationError(
            f"The SAS token expired at {_shown(expiry)} (its se).", renew, fields=[SAS]
        )
    if start is not None and start > now:
        return AuthenticationError(
            f"The SAS token is not valid before {_shown(start)} (its st).",
            "Wait until then, or generate a SAS whose start time has passed.",
            fields=[SAS],
        )
    scope = (
        " or it is for another container (a container's SAS opens that container only)"
        if "sr" in fields
        else ""
    )
    return AuthenticationError(
        f"{settings.blob_endpoint} rejected the SAS token ({code}): it was not signed with "
        f"a key of the account {settings.account_name!r}, or that key was rotated since{scope}.",
        renew,
        fields=[SAS],
    )


def container_problem(
    error: BaseException, container: str, settings: AzureSettings
) -> SourceError | None:
    """A container that does not exist, or that these credentials may not list."""
    code = error_code(error)
    if code == "ContainerNotFound" or (status_of(error) == 404 and code != "BlobNotFound"):
        return PathNotFoundError(
            f"The container {container!r} does not exist in the account {settings.account_name!r}.",
            "Check its name in 'Azure Blob Storage containers' (container names are lower case).",
            fields=[CONTAINERS],
        )
    if code in NOT_ALLOWED or status_of(error) == 403:
        fix = (
            "Generate the SAS token with the Read and List permissions (sp=rl)."
            if settings.sas_token
            else "Give the credentials the right to list its blobs."
        )
        return InsufficientPrivilegesError(
            f"These credentials may not list the blobs of the container {container!r} ({code}).",
            fix,
            fields=[CONTAINERS],
        )
    return None


def cannot_list_containers(settings: AzureSettings, code: str) -> InsufficientPrivilegesError:
    """'*' asks for every container, which a SAS may not be allowed to list."""
    if is_service_sas(settings):
        why = "a SAS for one container cannot list the account's containers"
        fix = "Name the containers in 'Azure Blob Storage containers', or use an account SAS."
    else:
        why = f"these credentials may not list the account's containers ({code})"
        fix = (
            "Generate an account SAS with the resource type Service too (srt=sco) and the "
            "List permission, or name the containers in 'Azure Blob Storage containers'."
        )
    return InsufficientPrivilegesError(
        f"'*' reads every container, but {why}.", fix, fields=[CONTAINERS]
    )


def _causes(error: BaseException) -> Any:
    """The error, its `inner_exception`s and its causes, innermost last."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(
            [
                getattr(current, "inner_exception", None),
                current.__cause__,
                current.__context__,
                *[a for a in current.args if isinstance(a, BaseException)],
                getattr(current, "reason", None)
                if isinstance(getattr(current, "reason", None), BaseException)
                else None,
            ]
        )


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
