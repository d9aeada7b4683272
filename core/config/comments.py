"""Keep ruamel.yaml comments where the user wrote them when entries are added or removed.

ruamel attaches the comment lines that follow an entry to that entry (to the deepest, last
key of it). Inserting after it would push those lines — usually the heading of whatever comes
next, or the commented block at the end of the file — above the new entry. These helpers
move such "trailing" comment lines to the new last entry, leaving end-of-line comments alone.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken


def _is_block(node: Any) -> bool:
    return (
        isinstance(node, CommentedMap | CommentedSeq)
        and len(node) > 0
        and not (node.fa.flow_style())
    )


def _tail(container: CommentedMap | CommentedSeq, key: Any) -> tuple[Any, Any]:
    """The (container, key) whose comment slot holds the lines after `container[key]`."""
    value = container[key]
    if _is_block(value):
        last = list(value.keys())[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _tail(value, last)
    return container, key


def _slot_index(container: Any) -> int:
    return 2 if isinstance(container, CommentedMap) else 0


def take_trailing(container: CommentedMap | CommentedSeq, key: Any) -> str | None:
    """Detach the comment lines after `container[key]` (keeping its end-of-line comment)."""
    owner, owner_key = _tail(container, key)
    entry = owner.ca.items.get(owner_key)
    index = _slot_index(owner)
    if not entry or len(entry) <= index or entry[index] is None:
        return None
    token = entry[index]
    value = token.value
    cut = value.find("\n")
    if cut < 0 or cut == len(value) - 1:
        return None
    eol, rest = value[: cut + 1], value[cut + 1 :]
    if eol.strip():
        token.value = eol
    else:
        entry[index] = None
        if all(part is None for part in entry):
            del owner.ca.items[owner_key]
    return rest


def put_trailing(container: CommentedMap | CommentedSeq, key: Any, lines: str | None) -> None:
    """Attach comment lines after `container[key]` (which has no trailing comment yet)."""
    if not lines:
        return
    owner, owner_key = _tail(container, key)
    index = _slot_index(owner)
    entry = owner.ca.items.setdefault(owner_key, [None, None, None, None])
    existing = entry[index]
    if existing is not None and existing.value.strip():
        existing.value = existing.value.rstrip("\n") + "\n" + lines
    else:
        entry[index] = CommentToken("\n" + lines, CommentMark(0), None)
