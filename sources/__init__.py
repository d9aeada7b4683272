"""Data sources: the source interface (`sources.base`), configuration schemas
(`sources.schema`), typed errors (`sources.errors`), the registry (`sources.registry`), and
one subpackage per source type (`directory`, `postgresql`, `mysql`). See README.md."""
