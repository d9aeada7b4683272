"""S3's answers, in words a person can act on, attached to the field at fault.

Codes from Amazon S3's error responses (AmazonS3/latest/API/ErrorResponses.html in AWS's
docs); S3-compatible stores answer with the same codes.
"""

from __future__ import annotations

from typing import Any

from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
    TLSError,
)

#: Answers that mean "try again later".
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestTimeTooSkewed",
        "503",
        "500",
    }
)


def error_code(error: BaseException) -> str:
    """S3's error code of a botocore `ClientError` ("" for anything else)."""
    response: Any = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code") or "")


def is_transient(error: BaseException) -> bool:
    from botocore import exceptions

    if isinstance(error, (exceptions.ConnectionClosedError, exceptions.ReadTimeoutError)):
        return True
    return error_code(error) in TRANSIENT_CODES


def connection_problem(error: BaseException, endpoint: str) -> SourceError | None:
    """Unreachable host, TLS, wrong keys, wrong region; None when it is none of those."""
    from botocore import exceptions

    where = endpoint or "Amazon S3"
    if isinstance(error, exceptions.SSLError):
        return TLSError(
            f"The TLS handshake with {where} failed: {_first_line(error)}.",
            "Check that the endpoint speaks HTTPS with a certificate this machine trusts "
            "(or use http:// for a local store).",
            fields=["endpoint_url"],
        )
    if isinstance(
        error,
        (
            exceptions.EndpointConnectionError,
            exceptions.ConnectTimeoutError,
            exceptions.ProxyConnectionError,
        ),
    ):
        return HostUnreachableError(
            f"Nothing answers at {where}.",
            "Check 'Endpoint URL' (host and port) and that this machine can reach it.",
            fields=["endpoint_url"] if endpoint else [],
        )
    code = error_code(error)
    if code == "InvalidAccessKeyId":
        return AuthenticationError(
            f"{where} does not know the access key id.",
            "Copy the key id of an active access key of the IAM user (AKIA…) into "
            "'AWS Access Key Id'.",
            fields=["aws_access_key_id"],
        )
    if code == "SignatureDoesNotMatch":
        return AuthenticationError(
            f"{where} knows the access key id, but the secret key does not match it.",
            "Paste the secret access key created with that key id into 'AWS Secret Key' "
            "(it is shown once, when the key is created).",
            fields=["aws_secret_access_key"],
        )
    if code in {"ExpiredToken", "TokenRefreshRequired", "InvalidToken"}:
        return AuthenticationError(
            f"{where} says the credentials have expired ({code}).",
            "Create a new access key for the IAM user and enter both parts.",
            fields=["aws_access_key_id", "aws_secret_access_key"],
        )
    if code in {
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraintException",
    }:
        return ConfigurationError(
            {
                "region": f"'Region': {where} expects requests for another region ({code})."
                " Give the bucket's region (like eu-west-1)."
            }
        )
    if code == "AccessDenied" and not getattr(error, "operation_name", "").startswith(
        ("ListObjects", "GetObject", "HeadBucket")
    ):
        return InsufficientPrivilegesError(
            f"{where} refused the request ({getattr(error, 'operation_name', 'a request')}: "
            "AccessDenied).",
            "Grant the IAM user the actions in the prerequisites (s3:ListAllMyBuckets, "
            "s3:ListBucket, s3:GetObject, s3:GetBucketLocation).",
            fields=["aws_access_key_id"],
        )
    return None


def bucket_problem(error: BaseException, bucket: str, endpoint: str) -> SourceError | None:
    """A bucket that does not exist, or that these credentials may not list."""
    code = error_code(error)
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in {"NoSuchBucket", "404", "NotFound"} or status == 404:
        return PathNotFoundError(
            f"The bucket {bucket!r} does not exist at {endpoint or 'Amazon S3'}.",
            "Check its name in 'AWS Buckets' (bucket names are lower case).",
            fields=["buckets"],
        )
    if code in {"AccessDenied", "403", "AllAccessDisabled", "Forbidden"} or status == 403:
        return InsufficientPrivilegesError(
            f"These credentials may not list the bucket {bucket!r}.",
            f"Allow s3:ListBucket on arn:aws:s3:::{bucket} (and s3:GetObject on "
            f"arn:aws:s3:::{bucket}/*) in the IAM user's policy.",
            fields=["buckets"],
        )
    return None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
