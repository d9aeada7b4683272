"""Data sources: the source interface, the registry, and one subpackage per source type."""
