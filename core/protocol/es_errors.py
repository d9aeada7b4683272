"""Translate elasticsearch-py exceptions into the store's readable errors.

The words never hold a request or response body: elastic-transport's `SerializationError`
puts the whole document it could not encode (a connector's configuration, passwords
included) into its message, and Elasticsearch quotes a field's value in some reasons
("Preview of field's value: ..."). `transport_problem`, `serialization_problem` and
`error_reason` (`core/es/errors.py`, shared with the checks) say what failed without them;
a `SerializationError` is never blamed on the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ApiError, SerializationError, TransportError

from sluice.core.es.errors import error_reason
from sluice.core.protocol.errors import ConnectorStoreError, InvalidRequest, StoreUnavailable

#: What the JSON encoders (orjson, the standard library) say, mapped to words that hold no
#: value: their messages are matched, never shown.
_NOT_UTF8 = "a text value is not valid UTF-8 (it holds bytes that could not be decoded)"
_ENCODING_CAUSES = (
    ("surrogates", _NOT_UTF8),
    ("not valid utf-8", _NOT_UTF8),
    ("64-bit", "an integer is out of the range Elasticsearch can store (a signed 64-bit long)"),
    ("out of range float", "a number is infinite or NaN, which JSON cannot hold"),
    ("circular", "a value contains itself"),
    ("recursion", "a value is nested too deeply"),
)
_TYPE_NAME = re.compile(r"(?:not JSON serializable: |Object of type )([A-Za-z_]\w*)")


def serialization_problem(exc: SerializationError) -> str:
    """What could not be encoded or decoded, in words that never include the data (the
    exception's own message is the whole document)."""
    if str(exc.message).startswith("Unable to deserialize"):
        return (
            "the answer is not valid JSON — check that elasticsearch.host points at "
            "Elasticsearch, not at a proxy or another service"
        )
    # The encoder's own exception, never elastic-transport's (whose text is the document).
    encoder = [
        e
        for e in (*exc.errors, exc.__cause__, exc.__context__)
        if isinstance(e, BaseException) and not isinstance(e, TransportError)
    ]
    texts = [str(e).lower() for e in encoder]
    why = next((words for key, words in _ENCODING_CAUSES if any(key in t for t in texts)), None)
    if why is None:
        types = [m.group(1) for e in encoder if (m := _TYPE_NAME.search(str(e)))]
        kind = f" of type {types[0]}" if types else ""
        why = f"a value{kind} cannot be written as JSON"
    return f"the request could not be encoded as JSON, so nothing was sent: {why}"


def transport_problem(exc: TransportError) -> str:
    """A request that got no usable answer, in one phrase: the network for connection and
    TLS failures, the data for serialization failures."""
    if isinstance(exc, SerializationError):
        return serialization_problem(exc)
    return f"cannot reach Elasticsearch ({exc.message})"


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
        text = f"{action}: Elasticsearch answered HTTP {status}: {error_reason(exc)}"
        if status == 400:
            raise InvalidRequest(text) from None
        if status in (401, 403):
            raise StoreUnavailable(
                text + " (check the credentials in config.yml and that they have the "
                "manage_connector privilege, or read/write on .elastic-connectors*)"
            ) from None
        raise ConnectorStoreError(text) from None
    except SerializationError as exc:
        text = f"{action}: {serialization_problem(exc)}"
        if str(exc.message).startswith("Unable to deserialize"):
            raise ConnectorStoreError(text) from None
        raise InvalidRequest(text) from None
    except TransportError as exc:
        raise StoreUnavailable(f"{action}: {transport_problem(exc)}") from None
