"""Command palette entries for the main actions of whatever screen is showing.

Screens list their actions in `palette_commands()`; this one provider turns them into palette
hits, so every action reachable by a key or a button is also one ctrl+p search away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    callback: Callable[[], Any]


class HasPaletteCommands(Protocol):
    def palette_commands(self) -> list[PaletteCommand]: ...


class ScreenCommands(Provider):
    """Offers the commands of the screen the palette was opened from."""

    def _commands(self) -> list[PaletteCommand]:
        screen = self.screen
        getter = getattr(screen, "palette_commands", None)
        if getter is None:
            return []
        return list(getter())

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), command.callback, help=command.help
                )
