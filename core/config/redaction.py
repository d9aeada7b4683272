"""Find and mask secrets in config.yml text, so previews and diffs never show them and a
file holding one in clear gets mode 0600."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.secrets import SECRET_FIELD_NAMES, is_reference, mask


def has_plaintext_secret(node: Any) -> bool:
    """True when an api_key/password/bearer_auth (or a header) holds a value in clear rather
    than a `${VAR}` or `keyring:` reference."""
    return _plaintext_secret(node, ())


def _plaintext_secret(node: Any, path: tuple[str, ...]) -> bool:
    if isinstance(node, Mapping):
        for key, value in node.items():
            leaf = str(key).rsplit(".", 1)[-1]
            secret = leaf in SECRET_FIELD_NAMES or (path and path[-1] == "headers")
            if secret and isinstance(value, str) and value.strip() and not is_reference(value):
                return True
            if _plaintext_secret(value, (*path, leaf)):
                return True
    elif isinstance(node, list):
        return any(_plaintext_secret(item, path) for item in node)
    return False


_SECRET_LINE = re.compile(
    r"^(?P<lead>[-+ ]\s*(?:-\s+)?(?:[\w.]*\.)?(?:"
    + "|".join(sorted(SECRET_FIELD_NAMES))
    + r")\s*:\s+)(?P<quote>['\"]?)(?P<value>[^'\"#\s][^'\"#]*?)(?P=quote)(?P<rest>\s+#.*)?$"
)


def mask_secret_lines(text: str) -> str:
    """Mask plain secret values in YAML (or diff) lines: `api_key: abcd…`."""

    def one(line: str) -> str:
        body = line.rstrip("\n")
        match = _SECRET_LINE.match(body)
        if not match or is_reference(match.group("value")):
            return line
        quote = match.group("quote")
        masked = f"{match.group('lead')}{quote}{mask(match.group('value'))}{quote}"
        return masked + (match.group("rest") or "") + line[len(body) :]

    return "".join(one(line) for line in text.splitlines(keepends=True))
