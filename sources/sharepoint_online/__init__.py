"""The `sharepoint_online` source: SharePoint Online through Microsoft Graph and SharePoint's
REST API, run by Sluice's engine. Elastic's class path for it is
`connectors.sources.sharepoint.sharepoint_online:SharepointOnlineDataSource`."""

from sluice.sources.sharepoint_online.source import SharePointOnlineSource

__all__ = ["SharePointOnlineSource"]
