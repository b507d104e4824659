"""Where an export goes: a PostgreSQL URL (direct ``COPY``) or a dlt destination name.

``to`` accepts ``postgresql://`` / ``postgres://`` / ``postgresql+psycopg://`` URLs,
``env:VAR`` (the URL is read from the environment variable ``VAR``, so it stays out of
shell history and job arguments) and ``dlt:<destination>`` (``dlt:snowflake``,
``dlt:bigquery``, ...; dlt reads the credentials from its own configuration). The
password is only ever shown masked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lakegate.errors import ExportError

__all__ = ["ExportTarget", "TargetKind", "mask_url", "parse_target"]

TargetKind = Literal["postgres", "dlt"]

_POSTGRES_SCHEMES: Final = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
_DLT_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
_SECRET_PARAMS: Final = frozenset({"password", "sslpassword"})
_MASK: Final = "***"


@dataclass(frozen=True)
class ExportTarget:
    """A parsed export destination.

    ``destination`` is safe to show (password masked); ``url`` holds the secret and is
    left out of ``repr``. For ``kind="dlt"``, ``dlt_destination`` is dlt's destination name.
    """

    kind: TargetKind
    destination: str
    url: str | None = field(default=None, repr=False)
    dlt_destination: str | None = None


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{_MASK}@{hostinfo}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, _MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_target(to: str) -> ExportTarget:
    """Parse ``to`` (a PostgreSQL URL, ``env:VAR`` or ``dlt:<destination>``) into an :class:`ExportTarget`."""
    text = to.strip()
    if text.startswith("env:"):
        name = text.removeprefix("env:")
        value = os.environ.get(name, "").strip()
        if not name or not value:
            raise ExportError(f"--to {to}: the environment variable {name!r} is not set or empty")
        if value.startswith(("env:", "dlt:")):
            raise ExportError(f"--to {to}: the environment variable {name!r} must hold a PostgreSQL URL")
        return _postgres(value, given=f"{to} (from the environment)")
    if text.startswith("dlt:"):
        name = text.removeprefix("dlt:")
        if not _DLT_NAME.fullmatch(name):
            raise ExportError(
                f"--to {to}: {name!r} is not a dlt destination name (such as postgres, snowflake, bigquery)"
            )
        return ExportTarget(kind="dlt", destination=f"dlt:{name}", dlt_destination=name)
    return _postgres(text, given=mask_url(text))


def _postgres(url: str, *, given: str) -> ExportTarget:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in _POSTGRES_SCHEMES:
        raise ExportError(
            f"--to {given}: unsupported destination; use a postgresql://user@host/db URL, "
            "env:VAR naming a variable that holds one, or dlt:<destination>"
        )
    plain = "postgresql" + url[len(scheme) :]  # psycopg only knows postgresql:// and postgres://
    return ExportTarget(kind="postgres", destination=mask_url(plain), url=plain)
