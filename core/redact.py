"""The secrets this process has seen, and `redact()` to scrub them from any text.

Masking a field by name (`api_key: ****`) misses a secret that leaks through an exception
message, a URL or a `repr`. So every place that learns a secret (config loading, the
keyring, a typed password, a source's sensitive field) calls `remember_secret`, and every
place that writes text a person or a file will see (crash reports, log records) passes it
through `redact`, which replaces the secret in each of the forms it takes in Python text:
as typed, `repr`-escaped, JSON-escaped and URL-encoded.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

#: What a secret becomes in redacted text.
REDACTED = "[REDACTED]"

#: Shorter values are not scrubbed: replacing every "ab" would garble text and hide nothing.
MIN_LENGTH = 4

_lock = threading.Lock()
_forms: set[str] = set()


def remember_secret(value: object) -> None:
    """Scrub `value` (and its escaped forms) from everything `redact` sees from now on."""
    if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
        return
    forms = {value, value.strip()}
    for text in list(forms):
        forms.add(repr(text)[1:-1])
        forms.add(text.encode("unicode_escape").decode("ascii"))
        forms.add(json.dumps(text)[1:-1])
        forms.add(json.dumps(text, ensure_ascii=False)[1:-1])
        forms.add(quote(text, safe=""))
    with _lock:
        _forms.update(form for form in forms if len(form) >= MIN_LENGTH)


def redact(text: str) -> str:
    """`text` with every remembered secret replaced by `[REDACTED]` (longest forms first, so
    a secret containing another is scrubbed whole)."""
    with _lock:
        forms = sorted(_forms, key=len, reverse=True)
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def forget_all_secrets() -> None:
    """Clear the registry (tests)."""
    with _lock:
        _forms.clear()
