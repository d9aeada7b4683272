"""Find and mask secrets in config.yml text, so previews and diffs never show them and a
file holding one in clear gets mode 0600."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from sluice.core.secrets import SECRET_FIELD_NAMES, is_reference, mask


def has_plaintext_secret(node: Any) -> bool:
    """True when an api_key/password/bearer_auth (or a header) holds a value in clear rather
    than a `${VAR}` or `keyring:` reference."""
    return bool(plaintext_secrets(node))


def plaintext_secrets(node: Any) -> set[str]:
    """Every secret value written in clear in a parsed config.yml."""
    found: set[str] = set()
    _collect_plaintext_secrets(node, (), found)
    return found


def _collect_plaintext_secrets(node: Any, path: tuple[str, ...], found: set[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            leaf = str(key).rsplit(".", 1)[-1]
            secret = leaf in SECRET_FIELD_NAMES or (path and path[-1] == "headers")
            if secret and isinstance(value, str) and value.strip() and not is_reference(value):
                found.add(value)
            else:
                _collect_plaintext_secrets(value, (*path, leaf), found)
    elif isinstance(node, list):
        for item in node:
            _collect_plaintext_secrets(item, path, found)


def scrub_removed_secrets(old_text: str, new_text: str) -> str:
    """`old_text` (the version about to become the `.bak`) without the plain secrets that the
    new version no longer holds: a secret the user just moved to the keyring or an
    environment variable must not stay behind in the backup."""
    try:
        old_secrets = plaintext_secrets(yaml.safe_load(old_text))
        new_secrets = plaintext_secrets(yaml.safe_load(new_text))
    except yaml.YAMLError:
        return old_text
    for secret in sorted(old_secrets - new_secrets, key=len, reverse=True):
        old_text = old_text.replace(secret, REMOVED_SECRET)
    return old_text


#: What a moved-out secret becomes in the backup.
REMOVED_SECRET = "REMOVED-secret-moved-out-of-this-file"


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
