"""Where a Delta table lives: a local folder or an object-store URI (``s3://bucket/prefix/name``).

Every table function takes a ``Path`` (a local folder, as always) or a :class:`TableLocation`;
``storage_options`` go to delta-rs and polars unchanged (both read object_store's keys, e.g.
``aws_endpoint_url``, ``aws_region``, ``aws_allow_http``; credentials normally come from the
standard ``AWS_*`` environment variables, which both read themselves).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lakegate.errors import LakegateError

__all__ = ["TableLocation", "as_location", "table_errors"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class TableLocation:
    """A Delta table's URI plus the options to reach it (never shown: they may hold secrets)."""

    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        return self.uri

    @property
    def local(self) -> Path | None:
        """The folder when the table is on the local filesystem (a path or ``file://``), else None."""
        if self.uri.startswith("file://"):
            return Path(self.uri.removeprefix("file://"))
        return None if "://" in self.uri else Path(self.uri)

    @property
    def name(self) -> str:
        """The last segment of the URI (the dataset name for a table in the lake)."""
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    @property
    def options(self) -> dict[str, str] | None:
        """``storage_options`` as delta-rs and polars take them (None when there are none)."""
        return dict(self.storage_options) or None

    @property
    def target(self) -> str:
        """What delta-rs and polars open: the folder for a local table, else the URI."""
        local = self.local
        return str(local) if local is not None else self.uri

    def child(self, name: str) -> TableLocation:
        """The location ``name`` below this one, with the same options."""
        return TableLocation(f"{self.uri.rstrip('/')}/{name}", self.storage_options)

    def exists(self) -> bool:
        """Whether a Delta table is there (its ``_delta_log`` holds a commit)."""
        local = self.local
        if local is not None:
            return (local / "_delta_log").is_dir()
        from deltalake import DeltaTable

        with table_errors(self, "reach"):  # a missing bucket or a refused connection
            return bool(DeltaTable.is_deltatable(self.uri, storage_options=self.options))

    def delete(self) -> None:
        """Remove the table and every file under it (a first write the catalog never recorded)."""
        local = self.local
        if local is not None:
            import shutil

            shutil.rmtree(local)
            return
        # delta-rs's own object store, built from the same options that wrote the table;
        # it deletes exactly the objects under ``<uri>/`` (not a sibling such as ``<uri>2/``).
        from deltalake.fs import DeltaStorageHandler

        DeltaStorageHandler(self.uri, self.options).delete_dir("")


@contextmanager
def table_errors(location: TableLocation | Path | str, action: str) -> Iterator[None]:
    """Turn delta-rs and object-store failures into a ``LakegateError`` naming the table.

    delta-rs reports S3 failures as ``OSError`` with a chain of causes on separate lines
    (and terminal colours); the message keeps the chain on one line.
    """
    from deltalake.exceptions import DeltaError

    try:
        yield
    except LakegateError:
        raise
    except (DeltaError, OSError) as exc:
        lines = (_ANSI.sub("", line).strip(" ↳") for line in str(exc).splitlines())
        reason = ": ".join(line for line in lines if line)[:300] or type(exc).__name__
        raise LakegateError(f"{location}: cannot {action} the Delta table ({reason})") from exc


def as_location(table: Path | TableLocation) -> TableLocation:
    """``table`` as a :class:`TableLocation` (a ``Path`` is a local folder without options)."""
    return table if isinstance(table, TableLocation) else TableLocation(str(table))
