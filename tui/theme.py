"""Sluice's two themes: a dark one for terminals, a light one for bright rooms and print.

Status colours (success / warning / error) are chosen to stay distinct from each other in
both, and every status is also spelled out in text, so nothing relies on colour alone.
"""

from __future__ import annotations

from textual.theme import Theme

SLUICE_DARK = Theme(
    name="sluice-dark",
    primary="#3D9BE9",
    secondary="#1F6FB2",
    accent="#F5B841",
    warning="#F5B841",
    error="#F0616D",
    success="#5CC98A",
    foreground="#E3E7EC",
    background="#101418",
    surface="#171C22",
    panel="#1F2630",
    dark=True,
)

SLUICE_LIGHT = Theme(
    name="sluice-light",
    primary="#0B5CAD",
    secondary="#2F7FCF",
    accent="#9A5B00",
    warning="#9A5B00",
    error="#B3261E",
    success="#1E7A44",
    foreground="#1B1F24",
    background="#F4F6F8",
    surface="#FFFFFF",
    panel="#E3E8EE",
    dark=False,
    variables={"footer-key-foreground": "#0B5CAD"},
)

THEMES = (SLUICE_DARK, SLUICE_LIGHT)
DEFAULT_THEME = SLUICE_DARK.name


def other_theme(name: str) -> str:
    """The light theme for a dark one and the other way round."""
    return SLUICE_LIGHT.name if name == SLUICE_DARK.name else SLUICE_DARK.name
