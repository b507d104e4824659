"""Where an export goes: a PostgreSQL URL (direct ``COPY``) or a dlt destination name.

``to`` accepts ``postgresql://`` / ``postgres://`` / ``postgresql+psycopg://`` URLs,
``env:VAR`` (the URL is read from the environment variable ``VAR``, so it stays out of
shell history and job arguments) and ``dlt:<destination>`` (``dlt:snowflake``,
``dlt:bigquery``, ...; dlt reads the credentials from its own configuration). The
password is only ever shown masked.

With a :class:`~lakegate.export.TargetPolicy` (a target given by a user, not declared by the
operator) a URL must pass :mod:`lakegate.export._policy` and ``env:`` may only name the
variables the policy allows; :func:`check_target` also resolves the host, for a request to be
refused before anything is queued.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode

from lakegate.errors import ExportError, InputError, TransientExportError
from lakegate.export._policy import (
    DLT_NOT_ALLOWED,
    ENV_NOT_ALLOWED,
    INVALID,
    TargetPolicy,
    checked_addresses,
    effective_dbname,
    refusal,
    user_params,
)

__all__ = ["ExportTarget", "TargetKind", "check_target", "mask_url", "parse_target"]

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
    ``policy`` is set for a user's URL: the connection goes only to addresses it allows.
    """

    kind: TargetKind
    destination: str
    url: str | None = field(default=None, repr=False)
    dlt_destination: str | None = None
    policy: TargetPolicy | None = field(default=None, repr=False, compare=False)


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) replaced by ``***``.

    The user part ends at the *last* ``@`` before the query: URL parsers (libpq takes the
    first ``@``, ``urllib`` the last) disagree on odd URLs, and masking too much is the safe side.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    head, question, query = rest.partition("?")
    userinfo, at, hostinfo = head.rpartition("@")
    if at and ":" in userinfo:
        head = f"{userinfo.partition(':')[0]}:{_MASK}@{hostinfo}"
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, _MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return f"{scheme}{sep}{head}{question}{query}"


def parse_target(to: str, policy: TargetPolicy | None = None) -> ExportTarget:
    """Parse ``to`` (a PostgreSQL URL, ``env:VAR`` or ``dlt:<destination>``) into an :class:`ExportTarget`.

    ``policy``: ``to`` came from a user, so its form is checked here (an :class:`InputError`
    with a reason code when refused) and its host when connecting. ``None``: the caller
    vouches for ``to`` (the operator's lakegate.yaml, a library call).
    """
    if policy is None:
        return _parse(to.strip(), None)
    try:
        return _parse(to.strip(), policy)
    except ExportError as exc:  # a user's bad request: HTTP 422 before anything is queued
        raise InputError(exc.message, detail={"field": "to", "reason": INVALID}) from None


def check_target(to: str, policy: TargetPolicy) -> None:
    """Refuse a user's ``to`` now (an :class:`InputError` with a reason code), without connecting.

    A URL's host is resolved and checked; the export checks again when it connects, and
    connects only to the addresses it checked then. An ``env:`` variable is only checked
    against the allow-list: its value is the worker's, read by the run.
    """
    text = to.strip()
    if text.startswith("env:"):
        _allowed_env(text.removeprefix("env:"), to, policy)
        return
    target = parse_target(text, policy)
    if target.policy is not None:
        host, port, params = user_params(target.url or "", target.destination)
        try:
            checked_addresses(host, port, effective_dbname(params), policy, given=target.destination)
        except TransientExportError as exc:
            raise refusal(target.destination, "unreachable", f"cannot resolve {host}") from exc


def _parse(text: str, policy: TargetPolicy | None) -> ExportTarget:
    if text.startswith("env:"):
        name = text.removeprefix("env:")
        if policy is not None:
            _allowed_env(name, text, policy)
        value = os.environ.get(name, "").strip()
        if not name or not value:
            raise ExportError(f"--to {text}: the environment variable {name!r} is not set or empty")
        if value.startswith(("env:", "dlt:")):
            raise ExportError(f"--to {text}: the environment variable {name!r} must hold a PostgreSQL URL")
        # The operator's URL (like a declared target): not limited by the policy.
        return _postgres(value, given=f"{text} (from the environment)")
    if text.startswith("dlt:"):
        name = text.removeprefix("dlt:")
        if not _DLT_NAME.fullmatch(name):
            raise ExportError(
                f"--to {text}: {name!r} is not a dlt destination name (such as postgres, snowflake, bigquery)"
            )
        if policy is not None and name not in policy.allowed_dlt:
            raise refusal(
                text,
                DLT_NOT_ALLOWED,
                f"{name} is not listed in exports.allowed_dlt; only destinations the operator lists there "
                "(with dlt credentials on the server) may be named",
            )
        return ExportTarget(kind="dlt", destination=f"dlt:{name}", dlt_destination=name)
    # A text that is no URL at all may be a libpq "key=value" string with a password: never echoed.
    target = _postgres(text, given=mask_url(text) if "://" in text else "(not a URL)")
    if policy is None:
        return target
    user_params(target.url or "", target.destination)  # refused here, before anything is queued
    return ExportTarget(kind="postgres", destination=target.destination, url=target.url, policy=policy)


def _allowed_env(name: str, given: str, policy: TargetPolicy) -> None:
    if name not in policy.allowed_env:
        raise refusal(
            given,
            ENV_NOT_ALLOWED,
            f"{name or 'no name'} is not listed in exports.allowed_env; only variables the operator "
            "lists there (each holding a warehouse URL) may be named",
        )


def _postgres(url: str, *, given: str) -> ExportTarget:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in _POSTGRES_SCHEMES:
        raise ExportError(
            f"--to {given}: unsupported destination; use a postgresql://user@host/db URL, "
            "env:VAR naming a variable that holds one, or dlt:<destination>"
        )
    plain = "postgresql" + url[len(scheme) :]  # psycopg only knows postgresql:// and postgres://
    return ExportTarget(kind="postgres", destination=mask_url(plain), url=plain)
