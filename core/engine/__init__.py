"""The sync engine: source → bounded queue → concurrent bulk sink, with progress events."""
