"""Export to PostgreSQL with ``COPY ... FROM STDIN (FORMAT csv)``, each mode in one transaction.

- ``append``: create the table from the source's types if it is missing, then ``COPY`` into
  it (columns matched by name; a source column the table lacks is an error).
- ``replace``: ``COPY`` into a new table, then drop the old one and rename the new one in
  the same transaction. Readers see the old rows until the commit, then the new ones; the
  table is never missing or empty in between. Views depending on the old table make the
  drop fail (the error says so) rather than silently dropping them.
- ``merge``: ``COPY`` into a temporary stage table, then upsert into the target on the
  ``key`` columns: ``INSERT ... ON CONFLICT`` when the target has a unique index on exactly
  those columns (the exporter creates one when it creates the table), otherwise ``MERGE``
  (PostgreSQL 15+). Several rows with the same key in one export: the last one wins.

A second export of the same table waits for the first (a transaction-level advisory lock).
Rows go as ``FORMAT binary`` when every type has a binary encoder (``_pgbinary``) and an
existing target has exactly those types, else as CSV (``_pgtypes``). Encoding batch *n+1*
runs in a helper thread while batch *n* is sent, so the client keeps ``COPY`` busy.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import TYPE_CHECKING, Any, Final, Literal

from lakegate.errors import ExportError
from lakegate.export._pgbinary import BINARY_TYPES, HEADER, TRAILER, binary_bytes
from lakegate.export._pgconnect import connect, current_schema, db_error, password_of
from lakegate.export._pgtypes import csv_bytes, pg_types
from lakegate.export._source import FrameStream

if TYPE_CHECKING:
    import polars as pl
    import psycopg
    from psycopg import sql

    from lakegate.export._target import ExportTarget

__all__ = ["ExportMode", "export_postgres"]

ExportMode = Literal["append", "replace", "merge"]
_SEQ: Final = "_lakegate_seq"
_MERGE_MIN_VERSION: Final = 150000
logger = logging.getLogger("lakegate.export")


def export_postgres(
    target: ExportTarget,
    stream: FrameStream,
    *,
    table: str,
    schema: str | None,
    mode: ExportMode,
    key: Sequence[str],
    progress: Callable[[int], None] | None,
) -> tuple[int, bool, str, str]:
    """Export ``stream`` into ``schema.table``; return (rows sent, table created, schema, table)."""
    import psycopg

    destination = target.destination
    password = password_of(target.url or "")
    conn = connect(target)
    where = f"{schema + '.' if schema else ''}{table}"
    internal: list[str] = []
    try:
        with conn, conn.transaction():
            schema = schema or current_schema(conn, destination)
            where = f"{schema}.{table}"
            run = _Run(conn, schema, table, stream, progress, internal)
            created = run.export(mode, list(key))
            return run.rows, created, schema, table
    except psycopg.Error as exc:
        raise db_error(exc, destination, where, password, internal) from exc
    finally:
        conn.close()


class _Run:
    """One export inside one open transaction."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        schema: str,
        table: str,
        stream: FrameStream,
        progress: Callable[[int], None] | None,
        internal: list[str],
    ) -> None:
        self.conn, self.schema, self.table, self.stream = conn, schema, table, stream
        self.progress, self.internal = progress, internal
        self.types = pg_types(stream.schema)
        self.columns = list(self.types)
        self.rows = 0
        self.oid: int | None = None
        self.target_types: dict[str, str] | None = None  # of an existing target table
        self._token = secrets.token_hex(6)

    def export(self, mode: ExportMode, key: list[str]) -> bool:
        from psycopg import sql

        if not self.columns:
            raise ExportError(f"{self.stream.label}: nothing to export (no columns)")
        lock_name = f"lakegate-export:{self.schema}.{self.table}"
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        # CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
        found = self.conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]).fetchone()
        if found is None:
            self.conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        existing = self._existing_columns(self.table)
        if mode == "replace":
            return self._replace(key, created=existing is None)
        if existing is None:
            self._create(self.table, key)
        else:
            self._check_columns(existing, key)
        if mode == "append":
            self._copy(self.table, freeze=existing is None)
        else:
            self._merge(key, unique=existing is None or self._has_unique_index(key))
        return existing is None

    # -- modes ------------------------------------------------------------------------

    def _replace(self, key: list[str], *, created: bool) -> bool:
        from psycopg import sql

        staged = self._internal_name("new")
        self.target_types = None  # the new table has the source's own types
        self._create(staged, key, index_name=self._internal_name("key"))
        self._copy(staged, freeze=True)
        target = sql.Identifier(self.schema, self.table)
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
        self.conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(self.schema, staged), sql.Identifier(self.table)
            )
        )
        if key:
            self.conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(self.schema, self._internal_name("key")),
                    sql.Identifier(_index_name(self.table)),
                )
            )
        return created

    def _merge(self, key: list[str], *, unique: bool) -> None:
        from psycopg import sql

        stage = self._internal_name("stage")
        self.conn.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(stage), _idents(self.columns), sql.Identifier(self.schema, self.table)
            )
        )
        self.conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint GENERATED ALWAYS AS IDENTITY").format(
                sql.Identifier(stage), sql.Identifier(_SEQ)
            )
        )
        self._copy(stage, freeze=False, qualified=False)
        self._refuse_null_keys(stage, key)
        latest = sql.SQL("SELECT DISTINCT ON ({k}) {c} FROM {s} ORDER BY {k}, {seq} DESC").format(
            k=_idents(key), c=_idents(self.columns), s=sql.Identifier(stage), seq=sql.Identifier(_SEQ)
        )
        others = [c for c in self.columns if c not in key]
        target = sql.Identifier(self.schema, self.table)
        if unique:
            action = (
                sql.SQL("DO UPDATE SET {}").format(
                    sql.SQL(", ").join(
                        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in others
                    )
                )
                if others
                else sql.SQL("DO NOTHING")
            )
            query = sql.SQL("INSERT INTO {t} ({c}) {latest} ON CONFLICT ({k}) {action}").format(
                t=target, c=_idents(self.columns), latest=latest, k=_idents(key), action=action
            )
        else:
            if self.conn.info.server_version < _MERGE_MIN_VERSION:
                raise ExportError(
                    f"table {self.schema}.{self.table} has no unique index on ({', '.join(key)}); "
                    "merge needs one, or PostgreSQL 15+ for MERGE",
                    detail={"table": self.table, "key": key},
                )
            query = _merge_statement(target, latest, key, self.columns, others)
        self.conn.execute(query)

    # -- building blocks --------------------------------------------------------------

    def _create(self, name: str, key: list[str], *, index_name: str | None = None) -> None:
        from psycopg import sql

        missing = [k for k in key if k not in self.types]
        if missing:
            raise _missing_key(missing, self.stream.label)
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in self.types.items()
        )
        self.conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(self.schema, name), columns))
        if key:
            self.conn.execute(
                sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
                    sql.Identifier(index_name or _index_name(name)),
                    sql.Identifier(self.schema, name),
                    _idents(key),
                )
            )

    def _copy(self, name: str, *, freeze: bool, qualified: bool = True) -> None:
        from psycopg import sql

        target = sql.Identifier(self.schema, name) if qualified else sql.Identifier(name)
        options = sql.SQL("FORMAT csv, FREEZE" if freeze else "FORMAT csv")
        binary = self._binary_ok()
        if binary:
            options = sql.SQL("FORMAT binary, FREEZE" if freeze else "FORMAT binary")
        statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(target, _idents(self.columns), options)
        types = self.types

        def encode(frame: pl.DataFrame) -> memoryview:
            return binary_bytes(frame, types) if binary else csv_bytes(frame)

        with (
            self.conn.cursor().copy(statement) as copy,
            closing(_encoded(self.stream.frames, encode)) as chunks,
        ):
            if binary:
                copy.write(HEADER)
            for height, chunk in chunks:
                copy.write(chunk)
                self.rows += height
                if self.progress is not None:
                    self.progress(self.rows)
            if binary:
                copy.write(TRAILER)

    def _binary_ok(self) -> bool:
        """Binary COPY needs types it can encode, and exactly those types in an existing table."""
        if not all(t in BINARY_TYPES for t in self.types.values()):
            return False
        existing = self.target_types
        return existing is None or all(existing.get(c) == t for c, t in self.types.items())

    def _existing_columns(self, name: str) -> dict[str, str] | None:
        row = self.conn.execute(
            "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            [self.schema, name],
        ).fetchone()
        if row is None:
            return None
        if row[1] not in {"r", "p"}:
            raise ExportError(f"{self.schema}.{name} exists and is not a table", detail={"table": name})
        self.oid = int(row[0])
        cols = self.conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [self.oid],
        ).fetchall()
        self.target_types = {str(name): str(kind) for name, kind in cols}
        return self.target_types

    def _check_columns(self, existing: dict[str, str], key: list[str]) -> None:
        missing = [c for c in self.columns if c not in existing]
        if missing:
            raise ExportError(
                f"table {self.schema}.{self.table} has no column {', '.join(map(repr, missing))} "
                f"(from {self.stream.label}); add it to the table or use --mode replace",
                detail={"table": self.table, "columns": missing},
            )
        absent = [k for k in key if k not in self.types]
        if absent:
            raise _missing_key(absent, self.stream.label)

    def _has_unique_index(self, key: list[str]) -> bool:
        rows = self.conn.execute(
            "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k(n) JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = k.n) FROM pg_index i "
            "WHERE i.indrelid = %s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL",
            [self.oid],
        ).fetchall()
        return any(sorted(r[0]) == sorted(key) for r in rows)

    def _refuse_null_keys(self, stage: str, key: list[str]) -> None:
        from psycopg import sql

        for column in key:
            found = self.conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(
                    sql.Identifier(stage), sql.Identifier(column)
                )
            ).fetchone()
            if found and found[0]:
                raise ExportError(
                    f"key column {column!r} is null in {found[0]} row(s) of {self.stream.label}; "
                    "merge needs a value to match on",
                    detail={"column": column, "rows": found[0]},
                )

    def _internal_name(self, role: str) -> str:
        name = f"_lakegate_{role}_{self._token}"
        if name not in self.internal:
            self.internal.append(name)
        return name


def _encoded(
    frames: Iterator[pl.DataFrame], encode: Callable[[pl.DataFrame], memoryview]
) -> Generator[tuple[int, memoryview], None, None]:
    """Encoded ``frames``; the next one is read and encoded while the caller sends this one."""

    def step() -> tuple[int, memoryview] | None:
        frame = next(frames, None)
        return None if frame is None else (frame.height, encode(frame))

    with ThreadPoolExecutor(1, thread_name_prefix="lakegate-export") as pool:
        pending = pool.submit(step)
        while (done := pending.result()) is not None:
            pending = pool.submit(step)
            yield done


def _merge_statement(
    target: sql.Composable, latest: sql.Composable, key: list[str], columns: list[str], others: list[str]
) -> sql.Composed:
    from psycopg import sql

    on = sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in key)
    matched = (
        sql.SQL(" WHEN MATCHED THEN UPDATE SET {}").format(
            sql.SQL(", ").join(sql.SQL("{0} = s.{0}").format(sql.Identifier(c)) for c in others)
        )
        if others
        else sql.SQL("")
    )
    values = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns)
    return sql.SQL(
        "MERGE INTO {t} AS t USING ({latest}) AS s ON {on}{matched} "
        "WHEN NOT MATCHED THEN INSERT ({c}) VALUES ({values})"
    ).format(t=target, latest=latest, on=on, matched=matched, c=_idents(columns), values=values)


def _idents(names: Sequence[str]) -> sql.Composed:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _index_name(table: str) -> str:
    """``<table>_lakegate_key``, shortened with a hash to PostgreSQL's 63-byte identifier limit."""
    name = f"{table}_lakegate_key"
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha256(table.encode()).hexdigest()[:8]
    return f"{table.encode()[:40].decode(errors='ignore')}_{digest}_lakegate_key"


def _missing_key(missing: list[str], label: str) -> ExportError:
    return ExportError(
        f"key column {', '.join(map(repr, missing))} is not in {label}", detail={"columns": missing}
    )
