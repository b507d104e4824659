"""S3 source: objects under ``s3://bucket/prefix/`` that were not ingested yet, one batch each.

State is ``{"objects": {key: etag}}`` of the objects ingested so far; a key that is not
there, or whose ETag changed, is new. Objects are taken in key order, streamed to disk
under a hashed local name (the key is never used as a path), and each batch carries the
state including its own object, so a crash resumes at the first object not committed.

A custom ``endpoint_url`` (MinIO, moto, ...) is checked against the outbound policy:
its host is resolved once and every address must be allowed. botocore then resolves
the name again itself (it cannot be given a pinned address without breaking TLS and
request signing), so pointing ``endpoint_url`` at a literal IP closes that window.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate._outbound import OutboundPolicy, resolve_checked
from lakegate.errors import ConfigError, SourceError, TransientSourceError
from lakegate.sources._spec import FetchedBatch, S3Source
from lakegate.sources._stage import local_name, staging_path

if TYPE_CHECKING:
    from botocore.client import BaseClient  # type: ignore[import-untyped]

__all__ = ["fetch_s3"]

Log = Callable[..., None] | None
_CHUNK = 1 << 20


def _client(spec: S3Source, outbound: OutboundPolicy) -> BaseClient:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    options: dict[str, Any] = {}
    if spec.endpoint_url is not None:
        from urllib3.util import parse_url

        endpoint = parse_url(spec.endpoint_url)
        port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
        resolve_checked(endpoint.host or "", port, outbound, error=SourceError)
        options["endpoint_url"] = spec.endpoint_url
    if spec.access_key_env is not None and spec.secret_key_env is not None:
        missing = [e for e in (spec.access_key_env, spec.secret_key_env) if not os.environ.get(e)]
        if missing:
            raise ConfigError(
                f"source {spec.name!r}: environment variable {', '.join(missing)} is not set",
                detail={"source": spec.name, "env": missing},
            )
        options["aws_access_key_id"] = os.environ[spec.access_key_env]
        options["aws_secret_access_key"] = os.environ[spec.secret_key_env]
    config = Config(
        region_name=spec.region,
        connect_timeout=outbound.timeout,
        read_timeout=max(outbound.timeout, 60),
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"} if spec.endpoint_url else {},
    )
    return boto3.session.Session().client("s3", config=config, **options)


def _translate(spec: S3Source, exc: Exception, action: str) -> SourceError:
    from botocore.exceptions import (  # type: ignore[import-untyped]
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )

    where = f"source {spec.name!r} ({spec.url}): {action}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = f"{where}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
        detail = {"source": spec.name, "status": status, "code": error.get("Code")}
        if status == 429 or status >= 500 or error.get("Code") in {"SlowDown", "RequestTimeout"}:
            return TransientSourceError(message, detail=detail)
        return SourceError(message, detail=detail)
    if isinstance(exc, NoCredentialsError):
        return SourceError(f"{where}: no AWS credentials found", detail={"source": spec.name})
    if isinstance(exc, EndpointConnectionError | ConnectionError | TimeoutError):
        return TransientSourceError(f"{where}: {exc}", detail={"source": spec.name})
    return SourceError(f"{where}: {type(exc).__name__}: {exc}", detail={"source": spec.name})


def _new_objects(spec: S3Source, client: BaseClient, seen: dict[str, str]) -> list[tuple[str, str]]:
    """(key, etag) of matching objects not in ``seen`` with the same ETag, sorted by key."""
    found: list[tuple[str, str]] = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=spec.bucket, Prefix=spec.prefix)
    for page in pages:
        found.extend(
            (item["Key"], item.get("ETag", ""))
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
            and spec.matches(item["Key"])
            and seen.get(item["Key"]) != item.get("ETag")
        )
    return sorted(found)


def fetch_s3(
    spec: S3Source, state: dict[str, Any], workdir: Path, *, outbound: OutboundPolicy, log: Log = None
) -> Iterator[FetchedBatch]:
    """Yield one batch per new object, in key order; nothing when every object was ingested."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(spec, outbound)
    seen: dict[str, str] = dict(state.get("objects") or {})
    try:
        todo = _new_objects(spec, client, seen)
    except (BotoCoreError, ClientError) as exc:
        raise _translate(spec, exc, "listing objects") from exc
    if log is not None:
        log("s3 objects to fetch", source=spec.name, count=len(todo))
    previous: Path | None = None
    for key, _listed_etag in todo:
        label = f"s3://{spec.bucket}/{key}"
        scratch = staging_path(workdir, "s3")
        digest = hashlib.sha256()
        size = 0
        try:
            response = client.get_object(Bucket=spec.bucket, Key=key)
            etag = str(response.get("ETag", _listed_etag))
            with scratch.open("wb") as handle:
                for block in response["Body"].iter_chunks(_CHUNK):
                    handle.write(block)
                    digest.update(block)
                    size += len(block)
        except (BotoCoreError, ClientError) as exc:
            scratch.unlink(missing_ok=True)
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
                "NoSuchKey",
                "404",
            }:
                continue  # deleted since the listing: nothing to ingest
            raise _translate(spec, exc, f"downloading {key}") from exc
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        path = workdir / local_name(key)
        scratch.replace(path)
        if previous is not None and previous != path:
            previous.unlink(missing_ok=True)  # the caller ingested it before asking for the next one
        previous = path
        seen[key] = etag
        yield FetchedBatch(
            path=path,
            label=label,
            rows=None,
            bytes=size,
            state={**state, "objects": dict(seen)},
            meta={"sha256": digest.hexdigest(), "key": key, "etag": etag, "bucket": spec.bucket},
        )
