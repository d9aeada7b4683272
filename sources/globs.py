"""Glob patterns typed by users: what the walkers would misread, said before a sync."""

from __future__ import annotations


def glob_problem(pattern: str, *, in_list: bool = False) -> str | None:
    """Why the walker would misread `pattern`, as the end of a sentence; None when it is fine.

    The walker (wcmatch, like fnmatch) takes an unclosed `[` or `{` as a literal character,
    so `[abc` silently matches nothing anyone meant. Rules: `[...]` needs its `]` (a `]` right
    after `[` or `[!` belongs to the class), `{a,b}` needs its `}`, `\\` escapes one character.
    `in_list`: the pattern came from a comma-separated list, where `*.{pdf,docx}` was split.
    """
    opened: list[int] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            end = index + 1
            if end < len(pattern) and pattern[end] in "!^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                end += 1
            if end >= len(pattern):
                return (
                    f"has an unclosed '[' (character {index + 1}): close the set with ']' "
                    "(like *.[ch]), or write [[] to match a literal '['."
                )
            index = end + 1
            continue
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            opened.pop()
        index += 1
    if opened and in_list:
        return (
            f"has an unclosed '{{' (character {opened[-1] + 1}): in this comma-separated list a "
            "',' ends the pattern, so write *.pdf, *.docx rather than *.{pdf,docx}; "
            "[{] matches a literal '{'."
        )
    if opened:
        return (
            f"has an unclosed '{{' (character {opened[-1] + 1}): close it with '}}' "
            "(like *.{pdf,docx}), or write [{] to match a literal '{'."
        )
    return None
