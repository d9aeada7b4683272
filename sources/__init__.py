"""Data sources: the source interface (`sluice.sources.base`), configuration schemas
(`.schema`), typed errors (`.errors`), the registry (`.registry`), and one subpackage per
source type (`directory`, `postgresql`, `mysql`). See README.md."""
