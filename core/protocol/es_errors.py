"""Translate elasticsearch-py exceptions into the store's readable errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from elasticsearch import ApiError, TransportError

from core.protocol.errors import ConnectorStoreError, InvalidRequest, StoreUnavailable


def reason(exc: ApiError) -> str:
    """Elasticsearch's own explanation (`error.reason`), else the error type."""
    body: Any = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            causes = error.get("root_cause") or []
            text = error.get("reason") or (causes[0].get("reason") if causes else None)
            return str(text or error.get("type") or exc.message)
        if isinstance(error, str):
            return error
    return str(exc.message)


def error_type(exc: ApiError) -> str:
    body: Any = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type") or "")
    return ""


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn client exceptions raised while doing `action` into ConnectorStoreError
    subclasses whose message says what was being done and what Elasticsearch answered."""
    try:
        yield
    except ConnectorStoreError:
        raise
    except ApiError as exc:
        status = exc.status_code
        text = f"{action}: Elasticsearch answered HTTP {status}: {reason(exc)}"
        if status == 400:
            raise InvalidRequest(text) from None
        if status in (401, 403):
            raise StoreUnavailable(
                text + " (check the credentials in config.yml and that they have the "
                "manage_connector privilege, or read/write on .elastic-connectors*)"
            ) from None
        raise ConnectorStoreError(text) from None
    except TransportError as exc:
        raise StoreUnavailable(f"{action}: cannot reach Elasticsearch ({exc.message})") from None
