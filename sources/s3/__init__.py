"""Amazon S3 and S3-compatible stores (MinIO, Ceph, SeaweedFS, Cloudflare R2, Wasabi)."""

from sluice.sources.s3.source import S3Source

__all__ = ["S3Source"]
