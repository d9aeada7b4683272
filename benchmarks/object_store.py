"""`make bench`'s S3 case: a bucket of the S3 server `scripts/services.sh` starts (SeaweedFS),
synced through the engine into the null bulk endpoint. The buckets are kept between runs
(the server creates ~500 objects/s here), so only the first run pays for filling them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.null_bulk import NullBulkEndpoint

INDEX = "sluice-bench"
TEXT = ("Rivers and mountains of the north, measured and written down. " * 16)[:1000]


def _client() -> Any:
    import botocore.session
    from botocore.config import Config

    return botocore.session.Session().create_client(
        "s3",
        endpoint_url=os.environ["SLUICE_S3_URL"],
        region_name=os.environ.get("SLUICE_S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ["SLUICE_S3_ACCESS_KEY"],
        aws_secret_access_key=os.environ["SLUICE_S3_SECRET_KEY"],
        config=Config(max_pool_connections=32, s3={"addressing_style": "path"}),
    )


def _filled(client: Any, bucket: str, count: int) -> None:
    """`bucket` holds exactly the objects 0..count-1 (1,000-byte text files)."""
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.ClientError:
        pass  # kept from an earlier run
    last = client.list_objects_v2(Bucket=bucket, Prefix=f"o/{count - 1:07d}")
    beyond = client.list_objects_v2(Bucket=bucket, StartAfter=f"o/{count - 1:07d}.txt")
    if last.get("KeyCount") and not beyond.get("KeyCount"):
        return
    print(f"  (filling {bucket} with {count:,} objects, once)", flush=True)
    with ThreadPoolExecutor(24) as pool:
        list(
            pool.map(
                lambda n: client.put_object(Bucket=bucket, Key=f"o/{n:07d}.txt", Body=TEXT),
                range(count),
            )
        )


def report(measure_once: Any, objects: int, metadata_objects: int) -> None:
    if not os.environ.get("SLUICE_S3_URL"):
        print("\nSLUICE_S3_URL is not set: skipping the S3 figures")
        return
    print("\nS3 (SeaweedFS on loopback, null bulk endpoint)")
    client = _client()
    with NullBulkEndpoint() as endpoint:
        for label, count, extract in (
            (f"{objects:,} objects, text downloaded and extracted", objects, True),
            (f"{metadata_objects:,} objects, metadata only", metadata_objects, False),
        ):
            bucket = f"sluice-bench-{count}"
            _filled(client, bucket, count)
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
    client.close()
