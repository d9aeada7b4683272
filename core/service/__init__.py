"""The headless connector service behind `sluice run`: Elastic's connector service, same
config.yml, same records, same protocol."""

from sluice.core.service.logs import configure_logging
from sluice.core.service.service import ConnectorService, ServiceOptions

__all__ = ["ConnectorService", "ServiceOptions", "configure_logging"]
