"""Quoting what a user typed back to them, without pasting 3,000 characters into a message.

A message names the bad value so the user can find it; past a few dozen characters the rest
only pushes the explanation and the fix off the screen.
"""

from __future__ import annotations

#: Longest echo of an input, in characters (the cut-off end becomes '…').
ECHO_LIMIT = 60


def ellipsize(text: object, limit: int = ECHO_LIMIT) -> str:
    """`text` as it is when short, else its first `limit - 1` characters and '…'."""
    value = str(text)
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + "…"


def quoted(value: object, limit: int = ECHO_LIMIT) -> str:
    """`repr`-style quote of a value for a message: `'abc'`, `'abcdef…'`, `42`."""
    if isinstance(value, str):
        return repr(ellipsize(value, limit))
    return ellipsize(repr(value), limit)
