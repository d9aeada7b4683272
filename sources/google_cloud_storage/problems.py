"""Google's answers, in words a person can act on, attached to the field at fault.

Token refusals are those of Google's OAuth 2.0 server for service accounts (`error`,
`error_description`: "Invalid JWT Signature.", "Invalid grant: account not found", ...);
storage errors are the JSON API's `{"error": {"code", "message", "errors": [{"reason"}]}}`
(cloud.google.com/storage/docs/json_api/v1/status-codes).
"""

from __future__ import annotations

import socket
import ssl

import httpx

from sluice.sources.errors import (
    AuthenticationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
    TLSError,
)
from sluice.sources.google_cloud_storage.client import (
    DEFAULT_ENDPOINT,
    ApiError,
    TokenRefused,
    Unreachable,
)
from sluice.sources.google_cloud_storage.credentials import FIELD, NEW_KEY

BUCKETS = "buckets"
ENDPOINT = "endpoint_url"
OBJECT_VIEWER = "the role Storage Object Viewer (roles/storage.objectViewer)"


def where(endpoint: str) -> str:
    return "Google Cloud Storage" if endpoint.rstrip("/") == DEFAULT_ENDPOINT else endpoint


def connection_problem(error: BaseException, endpoint: str, account: str) -> SourceError | None:
    """Nothing answers, TLS fails, or the credentials are refused; None for anything else.
    `account` is the service account's e-mail (not a secret: it names the account)."""
    if isinstance(error, Unreachable):
        return unreachable(error, endpoint)
    if isinstance(error, TokenRefused):
        return token_problem(error, account)
    if isinstance(error, ApiError) and error.status == 401:
        return AuthenticationError(
            f"{where(endpoint)} refused the service account's access token "
            f"(HTTP 401{': ' + error.message if error.message else ''}).",
            "Check that the key is still enabled, and that 'Endpoint URL' is Google's "
            f"({DEFAULT_ENDPOINT}) or a store that accepts Google's tokens.",
            fields=[FIELD],
        )
    return None


def unreachable(error: Unreachable, endpoint: str) -> SourceError:
    host = httpx.URL(error.url).host or error.url
    if error.token:
        subject = f"Google's token endpoint {host} (the JSON's token_uri)"
        fields, check = [FIELD], f"that this machine can reach {host} (proxy, firewall)"
    else:
        subject = where(endpoint)
        fields = [ENDPOINT]
        check = "'Endpoint URL' and that this machine can reach it"
    if _tls_failure(error.cause):
        return TLSError(
            f"The TLS handshake with {subject} failed: {_first_line(error.cause)}.",
            "Check that the address speaks HTTPS with a certificate this machine trusts "
            "(or use http:// for a local emulator).",
            fields=fields,
        )
    return HostUnreachableError(
        f"Nothing answers at {subject}: {_reason(error.cause)}.", f"Check {check}.", fields=fields
    )


def token_problem(error: TokenRefused, account: str) -> SourceError:
    """Google's token endpoint refused the signed assertion."""
    said = f"({error.error}: {error.description})" if error.error else f"(HTTP {error.status})"
    text = error.description.lower()
    if "account not found" in text:
        return AuthenticationError(
            f"Google has no service account {account} {said}.",
            "The account was deleted, or the key is of another project. "
            "Create a key for an existing service account. " + NEW_KEY,
            fields=[FIELD],
        )
    if "signature" in text:
        return AuthenticationError(
            f"Google refused the key of {account} {said}: the key was deleted or disabled, "
            "or the JSON was altered.",
            NEW_KEY,
            fields=[FIELD],
        )
    if "short-lived" in text or "timeframe" in text or "iat" in text:
        return AuthenticationError(
            f"Google refused the token request as badly timed {said}.",
            "Set this machine's clock right (NTP): Google accepts a signed request only "
            "within minutes of its own time.",
            fields=[FIELD],
        )
    if error.status >= 500 or error.status == 429:
        return SourceError(
            f"Google's token endpoint failed {said}.",
            "Try again in a few minutes; Google's status page tells of outages.",
            fields=[FIELD],
        )
    return AuthenticationError(
        f"Google refused a token for {account} {said}.",
        "Check that the service account and its key are enabled. " + NEW_KEY,
        fields=[FIELD],
    )


def bucket_problem(error: BaseException, bucket: str, account: str, endpoint: str) -> SourceError:
    """A bucket that does not exist, or whose objects these credentials may not list."""
    if isinstance(error, ApiError) and error.status == 404:
        return PathNotFoundError(
            f"The bucket {bucket!r} does not exist at {where(endpoint)}.",
            "Check its name in 'Google Cloud Storage buckets' (the console lists them under "
            "Cloud Storage → Buckets; names are lower case).",
            fields=[BUCKETS],
        )
    if isinstance(error, ApiError) and error.status == 403:
        return InsufficientPrivilegesError(
            f"The service account {account} may not list the objects of the bucket "
            f"{bucket!r} (storage.objects.list){_google_says(error)}.",
            f"Grant it {OBJECT_VIEWER} on the bucket: Cloud Storage → Buckets → {bucket} → "
            "Permissions → Grant access.",
            fields=[BUCKETS],
        )
    return request_problem(error, endpoint, account, f"listing the bucket {bucket!r}")


def bucket_listing_problem(error: ApiError, project: str, account: str) -> SourceError:
    """'*' needs the project's bucket list (storage.buckets.list)."""
    return InsufficientPrivilegesError(
        f"The service account {account} may not list the buckets of the project {project!r} "
        f"(storage.buckets.list), which '*' needs{_google_says(error)}.",
        "Grant it the role Storage Bucket Viewer (roles/storage.bucketViewer), or a custom "
        "role with storage.buckets.list, on the project; or name the buckets in 'Google "
        "Cloud Storage buckets'.",
        fields=[BUCKETS],
    )


def request_problem(
    error: BaseException, endpoint: str, account: str, doing: str = "reading"
) -> SourceError:
    """Whatever it is, as one actionable error (never a traceback)."""
    if isinstance(error, SourceError):
        return error
    known = connection_problem(error, endpoint, account)
    if known is not None:
        return known
    if isinstance(error, ApiError):
        return SourceError(
            f"{where(endpoint)} answered {error} while {doing}.",
            "If it persists, check Google Cloud's status page and the bucket's settings.",
        )
    return SourceError(
        f"{where(endpoint)} failed while {doing}: {type(error).__name__}: {error}"[:400],
        "Try again; if it persists, check the endpoint and the service account.",
    )


def _google_says(error: ApiError) -> str:
    return f": {error.message.rstrip('.')}" if error.message else ""


def _tls_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "CERTIFICATE" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(error: BaseException) -> str:
    """Why a connection failed, from the OS error under httpx's ("All connection attempts
    failed" says nothing)."""
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "the host name does not resolve"
        seen = seen.__cause__ or seen.__context__
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
