"""Export through a dlt destination (``dlt:snowflake``, ``dlt:bigquery``, ``dlt:redshift``, ...).

The frames go to ``pipeline.run`` as Arrow record batches, so dlt writes them with its
Arrow/Parquet path, not row by row. Credentials come from dlt's own configuration
(``DESTINATION__<NAME>__CREDENTIALS__...`` environment variables or ``.dlt/secrets.toml``).
dlt's local working folder is a temporary folder removed afterwards, unless
``pipelines_dir`` is given: dlt keeps the pipeline's state in the destination too.
Modes map to dlt's write dispositions; for ``merge`` dlt's own rules decide which of several
rows with the same key wins (see its ``dedup_sort`` hint).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate.errors import ExportError, LakegateError
from lakegate.export._source import FrameStream

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_DATASET", "export_dlt"]

DEFAULT_DATASET = "lakegate"


def export_dlt(
    destination: str,
    stream: FrameStream,
    *,
    table: str,
    schema: str | None,
    mode: str,
    key: Sequence[str],
    progress: Callable[[int], None] | None,
    pipelines_dir: Path | None,
) -> tuple[int, bool, str, str]:
    """Load ``stream`` into ``table`` with a dlt pipeline; return (rows, created, dataset, table).

    The returned table name is dlt's normalised one (``MyTable`` -> ``my_table``).
    """
    import dlt
    from dlt.common.exceptions import DltException

    dataset = schema or DEFAULT_DATASET
    missing = [k for k in key if k not in stream.schema]
    if missing:
        names = ", ".join(map(repr, missing))
        raise ExportError(f"key column {names} is not in {stream.label}", detail={"columns": missing})
    rows = 0

    def batches() -> Iterator[pa.Table]:
        import polars as pl

        nonlocal rows
        for frame in stream.frames:
            # Oldest compat level: plain/large strings rather than string views, which dlt may not know.
            yield frame.to_arrow(compat_level=pl.CompatLevel.oldest())
            rows += frame.height
            if progress is not None:
                progress(rows)
        if not rows:  # no batch at all: an empty one still gives dlt the columns to create
            yield stream.schema.to_frame().to_arrow(compat_level=pl.CompatLevel.oldest())

    hints: dict[str, Any] = {"name": table, "write_disposition": mode}
    if key:
        hints["primary_key"] = list(key)
    name = "lakegate_export_" + re.sub(r"\W", "_", table.lower())
    with tempfile.TemporaryDirectory(prefix="lakegate-dlt-") as scratch:
        try:
            pipeline = dlt.pipeline(
                pipeline_name=name,
                destination=destination,
                dataset_name=dataset,
                pipelines_dir=str(pipelines_dir or scratch),
            )
            existed = _exists(pipeline, table)
            pipeline.run(dlt.resource(batches(), **hints))
            loaded = pipeline.default_schema.naming.normalize_table_identifier(table)
        except DltException as exc:
            inner = _innermost(exc)
            if isinstance(inner, LakegateError):  # the source failed while dlt was reading it
                raise inner from exc
            raise ExportError(
                f"export of {table} to dlt:{destination} (dataset {dataset}) failed: {_reason(exc)}",
                detail={"table": table, "destination": destination},
            ) from exc
    return rows, existed is False, dataset, loaded


def _exists(pipeline: Any, table: str) -> bool | None:
    """Whether ``table`` exists in the destination (SQL destinations), ``None`` if dlt cannot tell."""
    try:
        with pipeline.destination_client() as client:
            lookup = getattr(client, "get_storage_tables", None)
            if lookup is None:
                return None
            name = client.schema.naming.normalize_table_identifier(table)
            return any(columns for _, columns in lookup([name]))
    except Exception:  # noqa: BLE001 - only a hint; pipeline.run reports a real failure properly
        return None


def _innermost(exc: BaseException) -> BaseException:
    """dlt wraps the real error in step exceptions (``.exception``) and causes."""
    inner = exc
    while isinstance(getattr(inner, "exception", None), BaseException):
        inner = inner.exception  # type: ignore[attr-defined]
    while inner.__cause__ is not None and str(inner.__cause__):
        inner = inner.__cause__
    return inner


def _reason(exc: BaseException) -> str:
    """The innermost message on one line."""
    inner = _innermost(exc)
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return " ".join(lines)[:600] if lines else type(inner).__name__
