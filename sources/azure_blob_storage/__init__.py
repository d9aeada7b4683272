"""Azure Blob Storage: blobs of a storage account's containers (shared key or SAS token)."""

from sluice.sources.azure_blob_storage.source import AzureBlobStorageSource

__all__ = ["AzureBlobStorageSource"]
