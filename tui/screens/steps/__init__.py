"""The seven steps of the setup wizard, one module each."""
