"""SMB 2/3 file shares (Windows file servers, Samba, NAS): Elastic's `network_drive`."""

from sluice.sources.network_drive.source import NetworkDriveSource

__all__ = ["NetworkDriveSource"]
