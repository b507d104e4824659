"""Export targets given by users: the outbound policy, allowed ``env:`` variables, pinned addresses.

A PostgreSQL URL typed by a user (the API, ``lakegate export --to``) makes the server open a
connection, so it obeys the same SSRF rules as sources and notifiers
(:mod:`lakegate._outbound`): by default only public addresses. It is read with libpq's own
parser, must name one TCP host and only options that neither read a file on the server nor
pick another host, and its host is resolved once; every address must pass the policy, and
the connection goes to that checked address (libpq ``hostaddr``, the name kept in ``host``
for TLS), so a second DNS answer cannot swap the target. The server's own credentials
(``PGPASSWORD``, ``~/.pgpass``, client certificates, Kerberos tickets) are never offered to
such a host, and lakegate's own catalog database is never a target.

``env:NAME`` may only name a variable in ``exports.allowed_env``: the URL inside is the
operator's, like a target declared in lakegate.yaml, and neither is limited here. Likewise
``dlt:NAME`` only a destination in ``exports.allowed_dlt`` (dlt reads the operator's
credentials for it, and some destinations, such as duckdb, write files on the server).
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from lakegate._outbound import IPAddress, OutboundPolicy, check_address, host_literal, resolve_checked
from lakegate.errors import ConfigError, InputError, LakegateError, TransientExportError

if TYPE_CHECKING:
    from lakegate.config import Settings

__all__ = [
    "CatalogDatabase",
    "TargetPolicy",
    "checked_addresses",
    "effective_dbname",
    "pinned_params",
    "refusal",
    "target_policy",
    "user_params",
]

# Stable reason codes: the message starts with one, and ``detail["reason"]`` holds it.
REFUSED: Final = "refused_by_policy"
INVALID: Final = "invalid_target"
ENV_NOT_ALLOWED: Final = "env_not_allowed"
DLT_NOT_ALLOWED: Final = "dlt_not_allowed"

# libpq options a user's URL may carry: none reads a file on the server or picks a host.
# Everything else (host/hostaddr in the query, service, passfile, sslkey, sslrootcert, ...) is
# refused; an operator needing them declares the export in lakegate.yaml.
USER_OPTIONS: Final = frozenset(
    {
        "application_name",
        "channel_binding",
        "connect_timeout",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "options",
        "ssl_max_protocol_version",
        "ssl_min_protocol_version",
        "sslmode",
        "sslnegotiation",
        "tcp_user_timeout",
    }
)
_OWN: Final = frozenset({"user", "password", "dbname"})
# Set on every connection to a user's host: the server's ambient credentials stay home.
_NO_AMBIENT_CREDENTIALS: Final = {
    "passfile": str(Path("/nonexistent/lakegate-no-passfile")),  # not ~/.pgpass
    "sslcertmode": "disable",  # no client certificate from ~/.postgresql
    "gssencmode": "disable",  # no Kerberos/GSSAPI ticket
    "require_auth": "!gss,!sspi",
}
_LIBPQ_16: Final = 160000


@dataclass(frozen=True)
class CatalogDatabase:
    """Where lakegate's own catalog lives (``host`` may be a socket folder); never an export target."""

    host: str
    port: int
    name: str


@dataclass(frozen=True)
class TargetPolicy:
    """The rules for an export target a user gave (not one the operator declared)."""

    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    allowed_env: frozenset[str] = frozenset()
    allowed_dlt: frozenset[str] = frozenset()
    catalog: CatalogDatabase | None = None


def target_policy(config: Settings, *, catalog: CatalogDatabase | None = None) -> TargetPolicy:
    """The policy from lakegate.yaml's ``outbound:`` and ``exports:`` (ConfigError naming the field)."""
    from pydantic import ValidationError

    try:
        outbound = OutboundPolicy(**config.outbound)
    except ValidationError as exc:
        raise ConfigError(f"outbound: {exc.errors()[0]['msg']}", detail={"field": "outbound"}) from exc
    return TargetPolicy(
        outbound=outbound,
        allowed_env=frozenset(config.exports.allowed_env),
        allowed_dlt=frozenset(config.exports.allowed_dlt),
        catalog=catalog,
    )


def refusal(given: str, code: str, why: str) -> InputError:
    """``--to <given>: <code> (<why>)``: a target refused before any connection (HTTP 422)."""
    return InputError(f"--to {given}: {code} ({why})", detail={"field": "to", "reason": code})


def user_params(url: str, given: str) -> tuple[str, int, dict[str, str]]:
    """``(host, port, other options)`` of a user's URL as libpq reads it, or a refusal."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except ProgrammingError:
        # libpq's message may quote part of the URL (a password among it): not repeated.
        raise refusal(given, INVALID, "not a valid PostgreSQL URL") from None
    host = params.pop("host", "").strip()
    if not host or host.startswith(("/", "@")):
        raise refusal(given, INVALID, "name a host; a socket on the server is not a destination")
    if "," in host:
        raise refusal(given, INVALID, "name one host")
    if "hostaddr" in params:
        raise refusal(given, INVALID, "hostaddr is set by lakegate (the checked address of the host)")
    text = params.pop("port", "5432").strip()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise refusal(given, INVALID, "the port must be one number from 1 to 65535")
    allowed = _OWN | USER_OPTIONS
    if params.get("sslrootcert") == "system":  # the system's CAs (sslmode=verify-full), no file named
        allowed |= {"sslrootcert"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise refusal(
            given,
            INVALID,
            f"option {', '.join(unknown)} is not allowed in a URL given by a user (it reads a file "
            "on the server or picks another host); declare the export in lakegate.yaml instead",
        )
    return host, int(text), params


def checked_addresses(host: str, port: int, dbname: str, policy: TargetPolicy, *, given: str) -> list[str]:
    """Resolve ``host`` once; every address must pass the policy. Returns them in order.

    A refusal is an :class:`InputError` (``refused_by_policy``) that names the host and why
    but not the address a name resolved to; an unresolvable name is ``unreachable``.
    ``dbname`` (see :func:`effective_dbname`) is compared with the catalog's.
    """
    literal = host_literal(host)
    try:
        addresses = resolve_checked(str(literal or host), port, policy.outbound, error=_RefusedError)
    except _RefusedError as exc:
        address = (exc.detail or {}).get("address")
        if address is None:  # the name did not resolve (no address to judge)
            raise TransientExportError(
                f"could not connect to {given}: unreachable (cannot resolve {host})",
                detail={"field": "to", "reason": "unreachable"},
            ) from None
        raise _policy_refusal(
            given, host, ipaddress.ip_address(address), policy, named=literal is None
        ) from None
    catalog = policy.catalog
    if catalog is not None and dbname == catalog.name and _is_catalog(addresses, port, catalog):
        raise refusal(given, REFUSED, "that is lakegate's own catalog database")
    return addresses


def pinned_params(host: str, port: int, params: dict[str, str], address: str) -> dict[str, str]:
    """libpq keywords to reach ``host`` at the checked ``address`` and nowhere else."""
    from psycopg import pq

    pinned = {**params, "host": host, "hostaddr": address, "port": str(port), **_NO_AMBIENT_CREDENTIALS}
    if pq.version() < _LIBPQ_16:  # sslcertmode and require_auth came with libpq 16
        del pinned["sslcertmode"], pinned["require_auth"]
    # An empty password, not none: libpq would otherwise take PGPASSWORD from the server's environment.
    pinned.setdefault("password", "")
    return pinned


def effective_dbname(params: dict[str, str]) -> str:
    """The database libpq will open: ``dbname``, else the user name (libpq's own defaults)."""
    return (
        params.get("dbname")
        or os.environ.get("PGDATABASE")
        or params.get("user")
        or os.environ.get("PGUSER")
        or getpass.getuser()
    )


class _RefusedError(LakegateError):
    """resolve_checked's refusal, caught here to word it for users (no resolved address)."""


def _policy_refusal(
    given: str, host: str, address: IPAddress, policy: TargetPolicy, *, named: bool
) -> InputError:
    reason = check_address(address, policy.outbound) or f"{address} is not allowed"
    what = reason.removeprefix(f"{address} is ").split(" (")[0]
    # For a name, say what kind of address it resolved to, not which: no internal DNS map for viewers.
    subject = f"{host} resolves to" if named else f"{host} is"
    return refusal(
        given, REFUSED, f"{subject} {what}; the operator may allow it under outbound: in lakegate.yaml"
    )


def _is_catalog(addresses: Iterable[str], port: int, catalog: CatalogDatabase) -> bool:
    if port != catalog.port:
        return False
    host = catalog.host
    if not host or host.startswith("/"):  # a socket: the same server answers on loopback
        mine = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    else:
        literal = host_literal(host)
        try:
            mine = (
                {literal}
                if literal
                else {ipaddress.ip_address(i[4][0]) for i in socket.getaddrinfo(host, port)}
            )
        except OSError:
            return False
    return any(_plain(ipaddress.ip_address(a)) in {_plain(m) for m in mine} for a in addresses)


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
