"""Sluice: set up, run and watch Elastic connectors from one terminal app.

Everything installs under this one name. The repository's top-level folders are its
subpackages (see `package-dir` in pyproject.toml): `core/` is `sluice.core`, `sources/` is
`sluice.sources`, `tui/` is `sluice.tui` and `cli/` is `sluice.cli`. Import them by that
name only; the bare names (`core`, `cli`) belong to no one and would load modules twice."""

from sluice.core import __version__

__all__ = ["__version__"]
