"""Google Cloud Storage: the objects of buckets, read with a service account's JSON key."""

from sluice.sources.google_cloud_storage.source import GoogleCloudStorageSource

__all__ = ["GoogleCloudStorageSource"]
