"""No screen or widget of Sluice reuses a private name of Textual's own classes.

Textual keeps its state in underscore attributes (`_running`, `_timers`, `_on_leave`, …). A
subclass assigning one of them silently breaks Textual: a step once set `self._running =
False`, which stopped its timers' callbacks until the next key press."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

from textual.app import App
from textual.message_pump import MessagePump
from textual.widget import Widget

from sluice import tui


def textual_private_names(cls: type) -> set[str]:
    """Underscore names Textual's part of `cls`'s ancestry defines, in class bodies or
    assigned on `self`."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("textual"):
            continue
        names |= {n for n in vars(base) if n.startswith("_") and not n.startswith("__")}
        try:
            tree = ast.parse(inspect.getsource(base))
        except (OSError, TypeError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr.startswith("_")
            ):
                names.add(node.attr)
    return names


def sluice_pumps() -> list[type]:
    classes = []
    for info in pkgutil.walk_packages(tui.__path__, "sluice.tui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, MessagePump):
                classes.append(cls)
    return classes


#: Set on purpose: CrashReportingApp._handle_exception replaces Textual's own and records the
#: exit code and the exception in the same attributes, so `App.run` returns and re-raises
#: as usual.
DELIBERATE_OVERRIDES = {"_return_code", "_exception"}


def test_no_tui_class_assigns_a_private_textual_attribute() -> None:
    clashes = []
    classes = sluice_pumps()
    assert any(issubclass(c, App) for c in classes) and any(issubclass(c, Widget) for c in classes)
    for cls in classes:
        reserved = textual_private_names(cls) - DELIBERATE_OVERRIDES
        tree = ast.parse(inspect.getsource(cls))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr in reserved
            ):
                clashes.append(f"{cls.__module__}.{cls.__qualname__}: self.{node.attr}")
    assert clashes == []
