"""Sources: REST APIs, SQL databases and S3 buckets -> staged files -> lake dataset versions.

    specs = load_sources(document["sources"], project_dir)
    for batch in fetch(specs["orders"], state, workdir, outbound=policy):
        ...  # ingest batch.path into spec.dataset as one version, store batch.state with it

``fetch`` is at-least-once: the caller commits ``batch.state`` in the same transaction as
the version; a crash before that refetches the same range, and because staged files are
byte-deterministic for the same data, the lake's content-hash dedupe makes the rerun a
no-op. A batch's file may be removed when the next batch is requested, so ingest it
before advancing the iterator. HTTP(S) URLs (REST, an S3 ``endpoint_url``) obey the
:class:`OutboundPolicy`; database URLs do not (see ``docs/sources.md``).
"""

from __future__ import annotations

import typing as _typing

from lakegate._outbound import OutboundPolicy
from lakegate._resolve import resolve as _resolve
from lakegate.sources._spec import FetchedBatch, RestSource, S3Source, SourceSpec, SqlSource, load_sources

if _typing.TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from pathlib import Path
    from typing import Any, Final

__all__ = [
    "SOURCES",
    "FetchedBatch",
    "OutboundPolicy",
    "RestSource",
    "S3Source",
    "SourceSpec",
    "SqlSource",
    "fetch",
    "load_sources",
]

# kind -> "module:function" (imported on first use, so ``lakegate --help`` stays fast)
SOURCES: Final[dict[str, str]] = {
    "rest": "lakegate.sources.rest:fetch_rest",
    "sql": "lakegate.sources.sql:fetch_sql",
    "s3": "lakegate.sources.s3:fetch_s3",
}


def fetch(
    spec: RestSource | SqlSource | S3Source,
    state: dict[str, Any],
    workdir: Path,
    *,
    outbound: OutboundPolicy,
    log: Callable[..., None] | None = None,
) -> Generator[FetchedBatch, None, None]:
    """Fetch what is new since ``state`` (``{}`` on the first run); one ``FetchedBatch`` per version."""
    function = _resolve(SOURCES[spec.kind])
    workdir.mkdir(parents=True, exist_ok=True)
    batches: Generator[FetchedBatch, None, None] = function(
        spec, dict(state), workdir, outbound=outbound, log=log
    )
    return batches
