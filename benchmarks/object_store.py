"""`make bench`'s S3 case: a bucket of the S3 server `scripts/services.sh` starts (SeaweedFS),
synced through the engine into the null bulk endpoint. The buckets are kept between runs
(the server creates ~500 objects/s here), so only the first run pays for filling them."""

from __future__ import annotations

import os
from typing import Any

from benchmarks.null_bulk import NullBulkEndpoint

INDEX = "sluice-bench"
TEXT = ("Rivers and mountains of the north, measured and written down. " * 16)[:1000]


def _server() -> Any:
    from tests.sources.s3_server import S3Server

    return S3Server(
        url=os.environ["SLUICE_S3_URL"],
        access_key=os.environ["SLUICE_S3_ACCESS_KEY"],
        secret_key=os.environ["SLUICE_S3_SECRET_KEY"],
        region=os.environ.get("SLUICE_S3_REGION", "us-east-1"),
    )


def _filled(server: Any, name: str, count: int) -> None:
    """Bucket `name` holds exactly the objects 0..count-1 (1,000-byte text files)."""
    from tests.sources.s3_server import Bucket

    bucket = Bucket(server, name)
    try:
        bucket.admin.create_bucket(Bucket=name)
    except bucket.admin.exceptions.ClientError:
        pass  # kept from an earlier run
    last = f"o/{count - 1:07d}.txt"
    present = bucket.admin.list_objects_v2(Bucket=name, Prefix=last).get("KeyCount")
    beyond = bucket.admin.list_objects_v2(Bucket=name, StartAfter=last).get("KeyCount")
    if present and not beyond:
        return
    print(f"  (filling {name} with {count:,} objects, once)", flush=True)
    bucket.empty()
    bucket.fill([f"o/{n:07d}.txt" for n in range(count)], TEXT.encode())


def report(measure_once: Any, objects: int, metadata_objects: int) -> None:
    if not os.environ.get("SLUICE_S3_URL"):
        print("\nSLUICE_S3_URL is not set: skipping the S3 figures")
        return
    print("\nS3 (SeaweedFS on loopback, null bulk endpoint)")
    server = _server()
    with NullBulkEndpoint() as endpoint:
        for label, count, extract in (
            (f"{objects:,} objects, text downloaded and extracted", objects, True),
            (f"{metadata_objects:,} objects, metadata only", metadata_objects, False),
        ):
            bucket = f"sluice-bench-{count}"
            _filled(server, bucket, count)
            configuration = {
                "buckets": bucket,
                "aws_access_key_id": os.environ["SLUICE_S3_ACCESS_KEY"],
                "aws_secret_access_key": os.environ["SLUICE_S3_SECRET_KEY"],
                "endpoint_url": os.environ["SLUICE_S3_URL"],
                "region": os.environ.get("SLUICE_S3_REGION", "us-east-1"),
                "page_size": 1000,
                "extract_text": extract,
            }
            spec = {
                "kind": "engine",
                "url": endpoint.url,
                "index": INDEX,
                "source": "s3",
                "configuration": configuration,
            }
            result = measure_once(spec)
            if result["status"] != "completed":
                raise SystemExit(f"S3 benchmark failed: {result['error']}")
            seconds = max(result["seconds"], 1e-9)
            downloaded = result["written"] * len(TEXT) if extract else 0
            print(
                f"  {label:<46} {result['written'] / seconds:>8,.0f} objects/s "
                f"{downloaded / seconds / 1e6:>6.2f} MB/s downloaded "
                f"{result['peak_rss_mib']:>6.0f} MiB peak RSS"
            )
