"""REST source: paginated JSON through dlt's ``RESTClient`` -> one NDJSON batch per run.

Pagination, JSONPath data selection and retries are dlt's; the session under it is
:func:`lakegate.sources._http.make_session` (policy-checked, pinned, rate-limited). With
``incremental``, the stored cursor is sent as a query parameter and records whose cursor
is smaller are dropped. Records *at* the stored cursor are kept unless they were already
fetched: the state holds the keys (:func:`record_keys`) of the records at the greatest
cursor seen, so an inclusive ``since`` neither re-ingests them nor loses a record that
arrived later with the same cursor (two rows updated in the same second). Cursors compare
as JSON values: numbers, or strings in one sortable format (ISO 8601). The ``initial``
value is exclusive, as is a cursor stored before the keys were kept.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate._outbound import OutboundPolicy
from lakegate.errors import ConfigError, SourceError, TransientSourceError
from lakegate.sources._spec import FetchedBatch, RestSource
from lakegate.sources._stage import NdjsonStage, SeenKeys, mask_url, record_keys

if TYPE_CHECKING:
    import requests
    from dlt.sources.helpers.rest_client.paginators import BasePaginator

__all__ = ["fetch_rest"]

Log = Callable[..., None] | None


def _paginator(spec: RestSource) -> BasePaginator | None:  # noqa: PLR0911 (one case per paginator)
    from dlt.sources.helpers.rest_client import paginators as p

    page = spec.paginator
    match page.type:
        case "auto":
            return None
        case "none":
            return p.SinglePagePaginator()
        case "page_number":
            return p.PageNumberPaginator(
                base_page=page.base_page,
                page_param=page.page_param,
                total_path=page.total_path,
                maximum_page=page.maximum_page,
            )
        case "offset":
            return p.OffsetPaginator(
                limit=page.limit,
                offset_param=page.offset_param,
                limit_param=page.limit_param,
                total_path=page.total_path,
                maximum_offset=page.maximum_offset,
            )
        case "cursor":
            return p.JSONResponseCursorPaginator(cursor_path=page.cursor_path, cursor_param=page.cursor_param)
        case "header_link":
            return p.HeaderLinkPaginator(links_next_key=page.links_next_key)
        case "json_link":
            return p.JSONLinkPaginator(next_url_path=page.next_url_path)
    raise AssertionError(page)  # pragma: no cover (the spec's discriminator is exhaustive)


def _auth(spec: RestSource) -> Any:
    """A requests auth that adds the secret header (kept out of dlt's debug log of headers)."""
    if spec.auth is None:
        return None
    from requests.auth import AuthBase

    secret = os.environ.get(spec.auth.env)
    if not secret:
        raise ConfigError(
            f"source {spec.name!r}: auth.env: environment variable {spec.auth.env} is not set",
            detail={"source": spec.name, "field": "auth.env", "env": spec.auth.env},
        )
    header, value = spec.auth.header, spec.auth.prefix + secret

    class HeaderAuth(AuthBase):
        def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
            request.headers[header] = value
            return request

        def __repr__(self) -> str:
            return f"HeaderAuth({header}: ***)"

    return HeaderAuth()


def _translate(spec: RestSource, exc: Exception) -> SourceError:
    """Map requests/dlt errors to the lakegate tree (429/5xx/connection -> transient)."""
    import requests

    where = f"source {spec.name!r} ({mask_url(spec.url)})"
    response = getattr(exc, "response", None)
    if isinstance(exc, requests.TooManyRedirects):
        return SourceError(f"{where}: too many redirects", detail={"source": spec.name})
    if isinstance(exc, requests.HTTPError) and response is not None:
        status = response.status_code
        detail = {"source": spec.name, "status": status, "body": response.text[:500]}
        message = f"{where}: HTTP {status} from {mask_url(response.url)}"
        if status == 429 or status >= 500:
            return TransientSourceError(message, detail=detail)
        return SourceError(message, detail=detail)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return TransientSourceError(f"{where}: {type(exc).__name__}: {exc}", detail={"source": spec.name})
    if isinstance(exc, requests.JSONDecodeError | ValueError):
        return SourceError(f"{where}: response is not the JSON expected: {exc}", detail={"source": spec.name})
    return SourceError(f"{where}: {type(exc).__name__}: {exc}", detail={"source": spec.name})


def _greater(a: Any, b: Any, spec: RestSource) -> bool:
    try:
        return bool(a > b)
    except TypeError as exc:
        field = spec.incremental.cursor_field if spec.incremental else "?"
        raise SourceError(
            f"source {spec.name!r}: incremental.cursor_field {field!r}: cannot compare {a!r} with {b!r}",
            detail={"source": spec.name, "field": "incremental.cursor_field"},
        ) from exc


def fetch_rest(
    spec: RestSource, state: dict[str, Any], workdir: Path, *, outbound: OutboundPolicy, log: Log = None
) -> Iterator[FetchedBatch]:
    """Fetch every page into one NDJSON file; yields nothing when no (new) record came back."""
    import requests
    from dlt.sources.helpers.rest_client.client import RESTClient
    from dlt.sources.helpers.rest_client.exceptions import PaginatorNotFound

    incremental = spec.incremental
    last = state.get("cursor", incremental.initial) if incremental else None
    params: dict[str, Any] = dict(spec.params)
    if incremental and last is not None:
        params[incremental.param] = last
    session = make_session_for(spec, outbound)
    client = RESTClient(
        base_url=spec.url,
        headers=dict(spec.headers),
        auth=_auth(spec),
        paginator=_paginator(spec),
        data_selector=spec.data_selector,
        session=session,
    )
    window = _Window(spec, incremental.cursor_field, last, state.get("boundary")) if incremental else None
    pages = 0
    with NdjsonStage(workdir, f"rest-{spec.name}") as stage:
        try:
            for page in client.paginate("", params=params):
                pages += 1
                records: list[Any] = list(page)
                if window is not None:
                    records = window.admit(records)
                stage.write(records)
                if log is not None:
                    log("page fetched", source=spec.name, page=pages, records=len(records))
                if spec.max_pages is not None and pages >= spec.max_pages:
                    break
        except SourceError:
            raise
        except (requests.RequestException, PaginatorNotFound, ValueError) as exc:
            raise _translate(spec, exc) from exc
        finally:
            session.close()
        if stage.rows == 0:
            return
        path, digest = stage.commit()
        new_state = window.state(state) if window is not None else dict(state)
        yield FetchedBatch(
            path=path,
            label=mask_url(spec.url),
            rows=stage.rows,
            bytes=stage.bytes,
            state=new_state,
            meta={"sha256": digest, "pages": pages, "format": "jsonl", "cursor": new_state.get("cursor")},
        )


class _Window:
    """Incremental filtering: what is new after ``last`` and the keys of what sits at the newest cursor.

    Keys are a multiset (a key repeats for identical records): two identical records at the
    cursor, one fetched before and one new, skip one and keep the other.
    """

    def __init__(self, spec: RestSource, field: str, last: Any, boundary: list[str] | None) -> None:
        self.spec = spec
        self.field = field
        self.last = last
        self.unseen = None if boundary is None else SeenKeys(boundary)  # None: ``last`` is exclusive
        self.newest = last
        self.at_newest: Counter[str] = Counter(boundary or ())

    def admit(self, records: list[Any]) -> list[Any]:
        kept = [r for r in records if self._new(r)]
        for record, key in zip(kept, record_keys(kept), strict=True):
            value = record.get(self.field) if isinstance(record, dict) else None
            if value is None:
                continue
            if self.newest is None or _greater(value, self.newest, self.spec):
                self.newest, self.at_newest = value, Counter([key])
            elif not _greater(self.newest, value, self.spec):
                self.at_newest[key] += 1
        return kept

    def _new(self, record: Any) -> bool:
        value = record.get(self.field) if isinstance(record, dict) else None
        if self.last is None or value is None or _greater(value, self.last, self.spec):
            return True
        if _greater(self.last, value, self.spec) or self.unseen is None:
            return False
        return not self.unseen.consume(record_keys([record])[0])  # fetched by an earlier run

    def state(self, state: dict[str, Any]) -> dict[str, Any]:
        exclusive = self.unseen is None and self.last is not None
        if exclusive and (self.newest is None or not _greater(self.newest, self.last, self.spec)):
            return {**state, "cursor": self.newest}  # nothing past an exclusive cursor: it stays one
        return {**state, "cursor": self.newest, "boundary": sorted(self.at_newest.elements())}


def make_session_for(spec: RestSource, outbound: OutboundPolicy) -> requests.Session:
    """The pinned, retrying, rate-limited session for ``spec``."""
    from lakegate.sources._http import make_session

    return make_session(
        spec.url,
        outbound,
        secret_headers=[spec.auth.header] if spec.auth else [],
        requests_per_second=spec.rate_limit.requests_per_second if spec.rate_limit else None,
        max_attempts=spec.retries.max_attempts,
        backoff_factor=spec.retries.backoff_factor,
        max_delay=spec.retries.max_delay,
    )
