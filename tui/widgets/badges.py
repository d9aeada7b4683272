"""Status badges: the same words and colours everywhere a check or job result is shown.

Meaning is carried by the text ("OK", "WARN", "FAIL"...), colour only repeats it, so the
badges read the same in a monochrome terminal, a screenshot or a screen reader.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.markup import escape as markup_escape

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

#: status -> (badge text, style). Styles use theme variables resolved by Textual markup.
BADGES: dict[str, tuple[str, str]] = {
    "ok": ("  OK  ", "bold $text-success"),
    "warn": (" WARN ", "bold $text-warning"),
    "fail": (" FAIL ", "bold $text-error"),
    "skip": (" SKIP ", "$text-muted"),
    "pending": ("  ..  ", "$text-muted"),
    "running": ("", "bold $text-accent"),
}

#: Plain symbols that repeat the status in one cell (for lists and compact places).
SYMBOLS = {"ok": "✔", "warn": "!", "fail": "✖", "skip": "-", "pending": "·", "running": "…"}


def badge_markup(status: str, frame: int = 0) -> str:
    """Content markup of a `[ STATUS ]` badge (a spinner frame for running checks)."""
    if status == "running":
        spin = SPINNER_FRAMES[frame % len(SPINNER_FRAMES)]
        return f"\\[[bold $text-accent]  {spin}   [/]]"
    text, style = BADGES.get(status, BADGES["pending"])
    return f"\\[[{style}]{text}[/]]"


def escape(text: object) -> str:
    """Escape user/server text for Textual content markup."""
    return markup_escape(str(text))


#: A word longer than this in a message is an echoed input gone wild (a pasted blob); real
#: paths and URLs are shorter, and stay whole.
LONG_WORD = 80


def shorten_long_words(text: str, limit: int = LONG_WORD) -> str:
    """Cut the middle out of every word longer than `limit` ('abcd…wxyz'), so a message that
    quotes a 3,000-character input still fits on a few lines with its fix in view."""
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3

    def cut(match: re.Match[str]) -> str:
        word = match.group(0)
        return word[:head] + "…" + word[-(limit - head - 1) :]

    return re.sub(rf"\S{{{limit + 1},}}", cut, text)


def plain_badge(status: str) -> Text:
    text, _ = BADGES.get(status, BADGES["pending"])
    return Text(f"[{text}]")


def animations_on(node: object) -> bool:
    """False in test mode (snapshots and screenshots must not depend on timing)."""
    app = getattr(node, "app", None)
    return not getattr(app, "test_mode", False)
