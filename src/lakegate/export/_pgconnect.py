"""Connecting to PostgreSQL and turning its errors into :class:`ExportError` (password masked).

A failed connection is reported to users by a reason code only (``unreachable``,
``authentication_failed``, ``login_refused``): what the far side answered (a banner, a
non-PostgreSQL reply, the server's words) would let whoever reads the run map other
services' ports, so it goes to the ``lakegate.export`` log for the operator and nowhere else.
Once a session is open, errors are PostgreSQL's own about the export (a bad value, a missing
column) and are shown, password scrubbed.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Final

from lakegate.errors import ExportError, TransientExportError
from lakegate.export._policy import checked_addresses, effective_dbname, pinned_params, user_params

if TYPE_CHECKING:
    import psycopg

    from lakegate.export._target import ExportTarget

__all__ = ["connect", "current_schema", "db_error", "password_of"]

logger = logging.getLogger("lakegate.export")

_EXPLAIN: Final = {
    "unreachable": "no PostgreSQL session: no route, refused, timed out, TLS failed or no PostgreSQL there",
    "authentication_failed": "the server did not accept the login",
    "login_refused": "the server refused the session (unknown database or role, access rules, limits)",
}


def password_of(url: str) -> str | None:
    """The password in ``url`` (to scrub it from messages), if any."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        value = conninfo_to_dict(url).get("password")
    except Exception:  # noqa: BLE001 - a malformed URL fails in connect() with a clear message
        return None
    return str(value) if value else None


def connect(target: ExportTarget) -> psycopg.Connection[Any]:
    """Open a connection; failing that, an :class:`ExportError` with a reason code, never the reply.

    A user's URL (``target.policy`` set) is resolved and checked now, and each checked
    address is tried in turn with libpq's ``hostaddr`` pinned to it.
    """
    import psycopg

    url, destination = target.url or "", target.destination
    password = password_of(url)
    # polars writes UTF-8; the server converts it to the database's encoding.
    options: dict[str, Any] = {"application_name": "lakegate-export", "client_encoding": "UTF8"}
    attempts: list[tuple[str, dict[str, str]]]
    if target.policy is None:
        if "connect_timeout" not in url:
            options["connect_timeout"] = 10
        attempts = [(url, {})]
    else:
        host, port, params = user_params(url, destination)
        limit = max(2, math.ceil(target.policy.outbound.timeout))  # libpq waits at least 2 s
        given = params.get("connect_timeout", "")
        options["connect_timeout"] = min(int(given), limit) if given.isdigit() and int(given) > 0 else limit
        params.pop("connect_timeout", None)
        addresses = checked_addresses(host, port, effective_dbname(params), target.policy, given=destination)
        attempts = [("", pinned_params(host, port, params, address)) for address in addresses]
    failure: psycopg.Error | None = None
    for conninfo, params in attempts:
        try:
            return psycopg.connect(conninfo, **{**params, **options})
        except psycopg.ProgrammingError as exc:  # libpq could not read the settings: nothing was sent
            reason = _scrub(str(exc).strip(), password)
            raise ExportError(f"{destination}: not valid connection settings ({reason})") from None
        except psycopg.Error as exc:
            failure = exc
    if failure is None:  # resolve_checked never returns no address; kept for the type checker
        raise ExportError(f"could not connect to {destination}: no address to try")
    code = _code(failure)
    logger.warning(
        "export could not connect",
        extra={"destination": destination, "reason": code, "reply": _scrub(str(failure).strip(), password)},
    )
    error = TransientExportError if code == "unreachable" else ExportError
    # from None: the reply must not ride along in a traceback that a run's log keeps.
    raise error(
        f"could not connect to {destination}: {code} ({_EXPLAIN[code]}); the reply is in the operator's log",
        detail={"destination": destination, "reason": code},
    ) from None


def _code(exc: Exception) -> str:
    """Which of the reason codes ``exc`` is: chosen from the reply, which itself is never shown."""
    text = str(exc)
    pgconn = getattr(exc, "pgconn", None)
    if getattr(pgconn, "needs_password", False) or "authentication failed" in text:
        return "authentication_failed"
    if "FATAL:" in text:  # an ErrorResponse: a PostgreSQL server answered and refused the session
        return "login_refused"
    return "unreachable"


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
