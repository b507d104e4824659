"""SQL source: a query against a SQLAlchemy URL, streamed in bounded chunks into Parquet.

The outbound policy does not apply here: databases are usually on private networks, and
their URLs come from the operator's own config (``url_env`` keeps the password out of
``lakegate.yaml``). Passwords are masked in every label and message.

Rows stream through a server-side cursor (``stream_results``) in chunks of
``_CHUNK_ROWS``; each chunk becomes a polars frame written as one Parquet part, and the
parts of a batch are concatenated with relaxed type unification (a column that is all
NULL in one chunk and typed in the next, or decimals of different scales) into the
staged file, streaming. With ``incremental: {cursor_column}``, the query is wrapped as
``SELECT * FROM (<query>) AS q WHERE q.<cursor> >= :last ORDER BY q.<cursor>`` with a bound
parameter (rows whose cursor is NULL are never fetched), and a batch is cut every
``batch_rows`` rows, but only between two different cursor values, so the state stored
with a batch never splits rows that share a cursor value. The state also keeps the keys
(:func:`~lakegate.sources._stage.record_keys`) of the rows at the stored cursor: a rerun
skips exactly those, and keeps a row committed later with the same cursor value (a
timestamp shared by two transactions), which ``>`` would lose. The ``initial`` value is
exclusive (``>``), as is a cursor stored before the keys were kept. A row whose key
cannot be matched again (its decimal scale changed between runs) is ingested twice at
worst, never lost.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate._outbound import OutboundPolicy
from lakegate.errors import ConfigError, SourceError, TransientSourceError
from lakegate.sources._spec import FetchedBatch, SqlSource
from lakegate.sources._stage import SeenKeys, file_digest, finish, record_keys, staging_path

if TYPE_CHECKING:
    import polars as pl
    import sqlalchemy as sa

__all__ = ["decode_cursor", "encode_cursor", "engine_url", "fetch_sql"]

Log = Callable[..., None] | None
_CHUNK_ROWS: Final = 50_000
_DRIVERS: Final = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def engine_url(url: str) -> str:
    """Plain ``postgresql://``/``mysql://``/``mariadb://`` -> the installed drivers (psycopg, pymysql)."""
    scheme, sep, rest = url.partition("://")
    return f"{_DRIVERS.get(scheme, scheme)}{sep}{rest}"


def encode_cursor(value: Any) -> dict[str, Any]:  # noqa: PLR0911 (one case per type)
    """A cursor value as JSON: ``{"type": ..., "value": ...}`` that :func:`decode_cursor` reverses."""
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, decimal.Decimal):
        return {"type": "decimal", "value": str(value)}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, dt.time):
        return {"type": "time", "value": value.isoformat()}
    return {"type": "str", "value": str(value)}


def decode_cursor(stored: dict[str, Any]) -> Any:
    """The Python value to bind for a stored cursor."""
    kind, value = stored["type"], stored["value"]
    decoders: dict[str, Callable[[Any], Any]] = {
        "bool": bool,
        "int": int,
        "float": float,
        "decimal": decimal.Decimal,
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "str": str,
    }
    return decoders[kind](value)


def _query(spec: SqlSource) -> str:
    if spec.query is not None:
        text = spec.query
    else:
        assert spec.query_file is not None
        try:
            text = spec.query_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"source {spec.name!r}: query_file: cannot read {spec.query_file}: {exc}"
            ) from exc
    return text.strip().rstrip(";").strip()


def _url(spec: SqlSource) -> str:
    if spec.url is not None:
        return engine_url(spec.url)
    value = os.environ.get(spec.url_env or "")
    if not value:
        raise ConfigError(
            f"source {spec.name!r}: url_env: environment variable {spec.url_env} is not set",
            detail={"source": spec.name, "field": "url_env", "env": spec.url_env},
        )
    return engine_url(value)


def _statement(
    spec: SqlSource, engine: sa.Engine, last: Any, *, inclusive: bool
) -> tuple[sa.TextClause, dict[str, Any]]:
    import sqlalchemy as sa

    query = _query(spec)
    if spec.incremental is None:
        return sa.text(query), {}
    column = engine.dialect.identifier_preparer.quote(spec.incremental.cursor_column)
    compare = ">=" if inclusive else ">"
    where = f"q.{column} {compare} :lakegate_last" if last is not None else f"q.{column} IS NOT NULL"
    sql = f"SELECT * FROM ({query}) AS q WHERE {where} ORDER BY q.{column}"  # noqa: S608 (values are bound)
    return sa.text(sql), ({"lakegate_last": last} if last is not None else {})


def _frame(rows: list[Any], columns: list[str]) -> pl.DataFrame:
    """Row tuples -> a polars frame; values polars keeps as Python objects (UUIDs, ...) become text.

    Plain tuples, not SQLAlchemy ``Row`` objects: polars builds a frame from tuples ~40%
    faster (measured: 200k rows x 5 columns, 1.9 s -> 1.1 s).
    """
    import polars as pl

    frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
    objects = [name for name, dtype in frame.schema.items() if dtype == pl.Object]
    if objects:
        frame = frame.with_columns(
            pl.Series(name, [None if v is None else str(v) for v in frame[name].to_list()], dtype=pl.String)
            for name in objects
        )
    return frame


def _cut(frame: pl.DataFrame, cursor: str, need: int, last: Any) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Split ``frame`` after its first ``need`` rows, moved on past rows sharing the boundary cursor.

    ``need <= 0`` means the batch is full already and only rows equal to ``last`` (the
    batch's final cursor so far) may still join it. Without a different value in
    ``frame`` the whole frame joins the batch (no tail yet).
    """
    key = frame[cursor]
    boundary = key[need - 1] if need > 0 else last
    start = max(need, 0)
    different = (key.slice(start) != boundary).arg_true()
    if not different.len():
        return frame, None
    cut = start + int(different[0])
    return frame.head(cut), frame.slice(cut)


class _Boundary:
    """The keys of the rows at one cursor value: skipped on resume, carried into the state.

    Keys are a multiset: identical rows (a query without a key column) repeat their key, so
    a new row identical to one fetched before is still kept once per extra copy.
    """

    def __init__(self, cursor: str, value: Any, keys: list[str] | None) -> None:
        self.cursor = cursor
        self.value = value
        self.keys: Counter[str] = Counter(keys or ())
        self.unseen = SeenKeys(keys or ())  # stored keys not matched yet on resume
        self.skipping = keys is not None and value is not None  # rows at ``value`` lead the result

    def skip_seen(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Drop the leading rows of ``frame`` that sit at the stored cursor and were fetched before."""
        import polars as pl

        if not self.skipping or not frame.height:
            return frame
        later = (frame[self.cursor] != self.value).arg_true()
        lead = int(later[0]) if later.len() else frame.height
        self.skipping = lead == frame.height  # the run of equal rows may go on in the next chunk
        if lead == 0:
            return frame
        head = frame.head(lead)
        fresh = [not self.unseen.consume(key) for key in record_keys(head.rows())]
        if all(fresh):
            return frame
        return head.filter(pl.Series(fresh, dtype=pl.Boolean)).vstack(frame.slice(lead))

    def track(self, frame: pl.DataFrame) -> None:
        """Remember the keys of the rows at ``frame``'s last (greatest) cursor value."""
        import polars as pl

        value = frame[self.cursor][-1]
        keys = Counter(record_keys(frame.filter(pl.col(self.cursor) == value).rows()))
        if value == self.value:
            self.keys.update(keys)
        else:
            self.value, self.keys = value, keys

    def state(self) -> list[str]:
        return sorted(self.keys.elements())


def _write_batch(parts: list[Path], workdir: Path, stem: str) -> tuple[Path, int, str]:
    """Concatenate the parts (relaxed types) into one deterministic Parquet file."""
    import polars as pl

    scratch = staging_path(workdir, stem)
    frames = [pl.scan_parquet(p) for p in parts]
    lazy = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    lazy.sink_parquet(
        scratch, compression="zstd", compression_level=3, statistics=True, row_group_size=100_000
    )
    digest = file_digest(scratch)
    size = scratch.stat().st_size
    return finish(scratch, workdir, stem, digest, ".parquet"), size, digest


def _classify(spec: SqlSource, masked: str, exc: Exception, *, connecting: bool) -> SourceError:
    import sqlalchemy as sa

    original = getattr(exc, "orig", None) or exc
    reason = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    detail = {"source": spec.name, "url": masked}
    transient = connecting or (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated)
    if transient or isinstance(exc, sa.exc.TimeoutError | sa.exc.DisconnectionError):
        return TransientSourceError(f"source {spec.name!r}: cannot reach {masked}: {reason}", detail=detail)
    return SourceError(f"source {spec.name!r}: query failed on {masked}: {reason}", detail=detail)


def fetch_sql(  # noqa: PLR0912, PLR0915 (one streaming loop with its cut points)
    spec: SqlSource, state: dict[str, Any], workdir: Path, *, outbound: OutboundPolicy, log: Log = None
) -> Iterator[FetchedBatch]:
    """Run the query; yield one Parquet batch per ``batch_rows`` (incremental) or one in all."""
    del outbound  # database URLs are not subject to the HTTP outbound policy (module docstring)
    import polars as pl
    import sqlalchemy as sa

    url = _url(spec)
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"source {spec.name!r}: url: {exc}", detail={"source": spec.name}) from exc
    masked = engine.url.render_as_string(hide_password=True)
    incremental = spec.incremental
    last: Any = None
    stored_keys: list[str] | None = None
    if incremental is not None:
        stored = state.get("cursor")
        last = decode_cursor(stored) if stored else incremental.initial
        stored_keys = state.get("boundary") if stored else None
    cursor_name = incremental.cursor_column if incremental else None
    boundary = _Boundary(cursor_name, last, stored_keys) if cursor_name is not None else None
    batch_rows = spec.batch_rows if incremental else None  # a full load is one version, never partial
    stem = f"sql-{spec.name}"
    scratch = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=workdir))
    previous: Path | None = None
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise _classify(spec, masked, exc, connecting=True) from exc
        with connection:
            statement, params = _statement(spec, engine, last, inclusive=stored_keys is not None)
            try:
                result = connection.execution_options(
                    stream_results=True, max_row_buffer=_CHUNK_ROWS
                ).execute(statement, params)
                columns = list(result.keys())
            except sa.exc.SQLAlchemyError as exc:
                raise _classify(spec, masked, exc, connecting=False) from exc
            with result:  # the server-side cursor closes before the connection, even on close()
                if cursor_name is not None and cursor_name not in columns:
                    raise SourceError(
                        f"source {spec.name!r}: incremental.cursor_column {cursor_name!r} is not a column "
                        f"of the query (columns: {', '.join(columns)})",
                        detail={"source": spec.name, "field": "incremental.cursor_column"},
                    )
                parts: list[Path] = []
                rows_in_batch = 0
                carry: pl.DataFrame | None = None
                batch_number = 0
                chunks = result.partitions(min(_CHUNK_ROWS, batch_rows or _CHUNK_ROWS))
                done = False
                while not done:
                    try:
                        rows = next(chunks, None)
                    except sa.exc.SQLAlchemyError as exc:
                        raise _classify(spec, masked, exc, connecting=False) from exc
                    done = rows is None
                    frame = _frame([tuple(r) for r in rows], columns) if rows is not None else None
                    if frame is not None and boundary is not None:
                        frame = boundary.skip_seen(frame)
                    if carry is not None:
                        frame = carry if frame is None else pl.concat([carry, frame], how="diagonal_relaxed")
                        carry = None
                    tail: pl.DataFrame | None = None
                    if frame is not None and frame.height:
                        full = batch_rows is not None and rows_in_batch + frame.height >= batch_rows
                        if full and batch_rows is not None and cursor_name is not None:
                            frame, tail = _cut(frame, cursor_name, batch_rows - rows_in_batch, last)
                        if frame.height:
                            part = scratch / f"part-{len(parts):06d}.parquet"
                            frame.write_parquet(part, compression="lz4", statistics=False)
                            parts.append(part)
                            rows_in_batch += frame.height
                            if cursor_name is not None and boundary is not None:
                                last = frame[cursor_name][-1]
                                boundary.track(frame)
                    cut_here = tail is not None or (done and rows_in_batch > 0)
                    if not cut_here:
                        continue
                    path, size, digest = _write_batch(parts, workdir, stem)
                    batch_number += 1
                    if previous is not None:
                        previous.unlink(missing_ok=True)
                    previous = path
                    for part in parts:
                        part.unlink()
                    new_state = (
                        {**state, "cursor": encode_cursor(last), "boundary": boundary.state()}
                        if boundary is not None
                        else dict(state)
                    )
                    if log is not None:
                        log("sql batch staged", source=spec.name, batch=batch_number, rows=rows_in_batch)
                    batch = FetchedBatch(
                        path=path,
                        label=f"{masked} ({spec.name})",
                        rows=rows_in_batch,
                        bytes=size,
                        state=new_state,
                        meta={"sha256": digest, "format": "parquet", "batch": batch_number},
                    )
                    parts, rows_in_batch, carry = [], 0, tail
                    state = new_state
                    yield batch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        engine.dispose()
