"""Lazy re-exports for package `__init__` modules (PEP 562).

A package such as `sluice.core.protocol` re-exports names from its submodules. Importing them
eagerly means `from sluice.core.protocol.models import JobType` loads the Elasticsearch client
too (the package runs first); `sluice --help` must not pay for that. A package lists where
each name lives; the submodule is imported on first use of the name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: `exports` maps submodule -> names it provides."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
