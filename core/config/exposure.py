"""Warn when config.yml holds a secret in plain text and other users can read the file: the
setup wizard writes such files 0600, but a hand-written one keeps the umask's 0644."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import Any

from sluice.core.config.envsubst import has_reference
from sluice.core.config.parse import Parsed
from sluice.core.config.problems import Problem
from sluice.core.config.schema import Path as KeyPath
from sluice.core.config.schema import format_path
from sluice.core.secrets import SECRET_FIELD_NAMES, parse_reference

#: Values that hold no secret: nothing, and the placeholder of Elastic's config.yml.example.
_NOT_SECRETS = frozenset({"", "changeme"})

#: Permission bits that let someone other than the owner read the file.
_READABLE_BY_OTHERS = stat.S_IRGRP | stat.S_IROTH


def exposed_secret_problem(
    path: Path, raw_text: str, parsed: Parsed | None, label: str | None = None
) -> Problem | None:
    """A warning when the file at `path` is readable by others and holds a secret written
    in clear (not a `${VAR}` or `keyring:` reference); None otherwise."""
    if os.name == "nt" or parsed is None:
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & _READABLE_BY_OTHERS:
        return None
    lines = raw_text.splitlines()
    found = [
        path_
        for path_ in plaintext_secret_paths(parsed.data)
        if not _written_as_reference(parsed, path_, lines)
    ]
    if not found:
        return None
    names = ", ".join(format_path(p) for p in found[:3])
    if len(found) > 3:
        names += f" and {len(found) - 3} more"
    label = label if label is not None else str(path)
    return Problem(
        "",
        f"holds a secret in plain text ({names}) and is readable by others (mode {mode:04o})",
        hint=f"chmod 600 {shlex.quote(label)}, or move the secret to the keyring or a ${{VAR}}",
        severity="warning",
        file=label,
    )


def plaintext_secret_paths(data: Any, path: KeyPath = ()) -> list[KeyPath]:
    """Paths of secret values (api_key, password, bearer_auth, headers) that are not a
    `keyring:` reference nor the `changeme` placeholder. `sources` maps names to classes."""
    found: list[KeyPath] = []
    if isinstance(data, dict):
        for key, value in data.items():
            child = (*path, key)
            secret = key in SECRET_FIELD_NAMES or (bool(path) and path[-1] == "headers")
            if secret and isinstance(value, str):
                if value.strip() not in _NOT_SECRETS and parse_reference(value) is None:
                    found.append(child)
            elif child != ("sources",):
                found += plaintext_secret_paths(value, child)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += plaintext_secret_paths(item, (*path, index))
    return found


def _written_as_reference(parsed: Parsed, path: KeyPath, lines: list[str]) -> bool:
    """True when the value's line holds a `${VAR}` (substitution keeps line numbers, not
    columns), so the secret comes from the environment."""
    where = parsed.locate_value(path)
    if where is None or not 0 < where[0] <= len(lines):
        return False
    return has_reference(lines[where[0] - 1])
