"""Connecting to PostgreSQL and turning its errors into :class:`ExportError` (password masked)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakegate.errors import ExportError, TransientExportError

if TYPE_CHECKING:
    import psycopg

__all__ = ["connect", "current_schema", "db_error", "password_of"]


def password_of(url: str) -> str | None:
    """The password in ``url`` (to scrub it from messages), if any."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        value = conninfo_to_dict(url).get("password")
    except Exception:  # noqa: BLE001 - a malformed URL fails in connect() with a clear message
        return None
    return str(value) if value else None


def connect(url: str, destination: str, password: str | None) -> psycopg.Connection[Any]:
    """Open a connection; failing that, an :class:`ExportError` saying so, password masked."""
    import psycopg

    # polars writes UTF-8; the server converts it to the database's encoding.
    options: dict[str, Any] = {"application_name": "lakegate-export", "client_encoding": "UTF8"}
    if "connect_timeout" not in url:
        options["connect_timeout"] = 10
    try:
        return psycopg.connect(url, **options)
    except psycopg.Error as exc:
        reason = _scrub(str(exc).strip(), password)
        raise TransientExportError(f"could not connect to {destination}: {reason}") from exc


def current_schema(conn: psycopg.Connection[Any], destination: str) -> str:
    """The schema unqualified names go to (the first of ``search_path`` that exists)."""
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise ExportError(f"{destination}: no current schema (empty search_path); pass a schema")
    return str(row[0])


def _scrub(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


def db_error(
    exc: Exception, destination: str, where: str, password: str | None, internal: list[str]
) -> ExportError:
    """A database error as an :class:`ExportError` naming the table, column and the server's message."""
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip()
    context = (getattr(diag, "context", None) or "").strip()
    column = getattr(diag, "column_name", None)
    table = where.rpartition(".")[2]
    if context:
        message = f"{message} ({context.splitlines()[0]})"
    for name in internal:  # speak of the user's table, not our stage/new table
        message = message.replace(name, table)
    text = _scrub(f"export to {where} at {destination} failed: {message}", password)
    detail = {"table": where, "column": column, "sqlstate": getattr(exc, "sqlstate", None)}
    return ExportError(text, detail=detail)
