"""config.yml of Elastic's connector service: read, check, edit and write it.

* `load_config(path)` → `Config` (Elastic's defaults merged, `${VAR}` substituted,
  `keyring:` references resolved) or `ConfigError` listing every problem with file, line,
  column, key and fix. `Config.service_problems()` adds what makes Elastic's service refuse to
  start (no connector, `changeme`), for `sluice run`.
* `Config.settings` is the typed model (`core.config.typed.Settings`) every consumer reads;
  `core.config.unused` warns about documented keys Sluice does not act on.
* `ConfigDocument` edits a file in place keeping comments, order and style; `save()` is atomic
  and keeps `<name>.bak`.
* `new_config_text(...)` writes a fresh, commented config.
* `elastic_compat` says what Elastic's own service would read differently (the keys it does
  not read, `feature_use_connectors_api` on a cluster without the Connector API).

A config written by Sluice runs under Elastic's service and the other way round; the only
Sluice-only keys are `SLUICE_ONLY_KEYS` (ignored by Elastic's service), and `keyring:`
references, which only Sluice resolves (see `core.secrets`).
"""

from sluice.core.config.defaults import DEFAULTS, ELASTIC_SOURCES, EXTRACTION_SERVICE_DEFAULTS
from sluice.core.config.document import ConfigDocument
from sluice.core.config.envsubst import escape_dollars
from sluice.core.config.loader import config_from_text, load_config
from sluice.core.config.model import Config
from sluice.core.config.problems import ConfigError, Problem
from sluice.core.config.schema import SLUICE_ONLY_KEYS, known_paths
from sluice.core.config.template import new_config_text
from sluice.core.config.typed import Settings

__all__ = [
    "DEFAULTS",
    "ELASTIC_SOURCES",
    "EXTRACTION_SERVICE_DEFAULTS",
    "SLUICE_ONLY_KEYS",
    "Config",
    "ConfigDocument",
    "ConfigError",
    "Problem",
    "Settings",
    "config_from_text",
    "escape_dollars",
    "known_paths",
    "load_config",
    "new_config_text",
]
