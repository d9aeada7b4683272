"""Reusable Sluice widgets, each with its own DEFAULT_CSS."""
