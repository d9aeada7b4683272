"""What every "tree of files" source shares: object stores (S3, Azure Blob, Google Cloud
Storage) and file shares (SMB).

A source of this family says how to list its roots (buckets, containers, a share), how to
list the files under one, how to build a file's document (Elastic's fields for that store)
and how to download a file. `FileTreeSource` does the rest once for all of them: roots with
an optional key prefix ("bucket/reports/"), include/exclude globs, lazy content (a file is
downloaded and its text extracted only when the engine writes its document, so an unchanged
file of an incremental sync is never fetched), the size limit, bounded concurrent
downloads, retries with back-off, and listing failures scoped so a full sync never deletes
what it could not list.
"""
