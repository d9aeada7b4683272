"""The content languages a connector can declare, and the analyzer each maps to.

A table of its own, with no Elasticsearch client import, so the wizard can list the
languages in its first frame without loading the client.
"""

from __future__ import annotations

#: (code stored in the connector's `language`, name shown, Elasticsearch analyzer).
LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("", "Universal (standard analyzer)", "standard"),
    ("en", "English", "english"),
    ("fr", "French", "french"),
    ("de", "German", "german"),
    ("es", "Spanish", "spanish"),
    ("it", "Italian", "italian"),
    ("pt", "Portuguese", "portuguese"),
    ("nl", "Dutch", "dutch"),
    ("sv", "Swedish", "swedish"),
    ("da", "Danish", "danish"),
    ("no", "Norwegian", "norwegian"),
    ("fi", "Finnish", "finnish"),
    ("pl", "Polish (standard analyzer)", "standard"),
    ("ru", "Russian", "russian"),
    ("ja", "Japanese (CJK)", "cjk"),
    ("zh", "Chinese (CJK)", "cjk"),
    ("ko", "Korean (CJK)", "cjk"),
)
