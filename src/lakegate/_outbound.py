"""Outbound-connection safety shared by notifiers and sources (SSRF protection).

A user-configured URL may only reach public (global) addresses unless its
:class:`OutboundPolicy` allows more. Callers resolve a host once with
:func:`resolve_checked`, refuse it if *any* of its addresses is not allowed, and then
connect to the checked address itself (pinned), so a second DNS answer cannot swap the
target. Each caller passes the error class its users expect (``NotificationError``,
``SourceError``).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakegate.errors import LakegateError

__all__ = [
    "METADATA_ADDRESSES",
    "IPAddress",
    "OutboundPolicy",
    "check_address",
    "embedded_ipv4",
    "host_literal",
    "resolve_checked",
    "tls_context",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)


class OutboundPolicy(BaseModel):
    """Where outbound HTTP may go. By default only public (global) addresses.

    ``allow_private`` opens private and loopback ranges; link-local and cloud metadata
    addresses stay closed unless a network in ``allowed_networks`` names them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private: bool = False
    allowed_networks: list[str] = Field(default_factory=list, description="CIDRs always allowed.")
    timeout: float = Field(10.0, gt=0, le=120)
    max_redirects: int = Field(3, ge=0, le=10)

    @field_validator("allowed_networks")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"not a network: {value!r}") from exc
        return values


# IPv6 ranges that carry an IPv4 address in their last 32 bits and route to it: NAT64
# (RFC 6052's well-known prefix) and the deprecated IPv4-compatible form (::a.b.c.d).
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE: Final = ipaddress.ip_network("::/96")
# Tunnels whose own prefix is judged too: a Teredo relay or an IPv4-compatible address
# reaches more than the IPv4 address inside it (both are refused unless private is allowed).
_JUDGED_TWICE: Final = frozenset({"Teredo", "IPv4-compatible"})
# Routed inside a site, though Python calls them global: site-local (deprecated) and a
# site's own NAT64 translator (RFC 8215).
_ROUTED_INSIDE: Final = (ipaddress.ip_network("fec0::/10"), ipaddress.ip_network("64:ff9b:1::/48"))
# A host made only of these characters is an IPv4 address in one of the forms C resolvers
# accept (2130706433, 0x7f.1, 017700000001): read without DNS, as getaddrinfo would read it.
_NUMERIC_HOST: Final = re.compile(r"[0-9a-fA-FxX.]+")


def embedded_ipv4(address: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:  # noqa: PLR0911
    """The IPv4 address an IPv6 address routes to (mapped, 6to4, Teredo, NAT64, compatible), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves
        return "IPv4-compatible", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allowed_by_network(address: IPAddress, policy: OutboundPolicy) -> bool:
    return any(
        address.version == (network := ipaddress.ip_network(n, strict=False)).version and address in network
        for n in policy.allowed_networks
    )


def check_address(address: IPAddress, policy: OutboundPolicy) -> str | None:
    """``None`` when ``address`` may be contacted, else the reason it may not.

    An IPv6 address that carries an IPv4 address it routes to (``::ffff:127.0.0.1``,
    6to4 ``2002:7f00:1::``, NAT64 ``64:ff9b::7f00:1``, Teredo) is judged by that IPv4 address.
    """
    if _allowed_by_network(address, policy):
        return None
    inner = embedded_ipv4(address)
    if inner is not None:
        kind, ipv4 = inner
        reason = _check_plain(ipv4, policy)
        if reason is not None:
            article = "an" if kind[0] in "AEIOU" else "a"
            return f"{address} is {article} {kind} address for {reason.removeprefix(f'{ipv4} is ')}"
        if kind not in _JUDGED_TWICE:
            return None
    return _check_plain(address, policy)


def _check_plain(address: IPAddress, policy: OutboundPolicy) -> str | None:  # noqa: PLR0911
    if _allowed_by_network(address, policy):
        return None
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_multicast or address.is_unspecified:
        return f"{address} is not a unicast address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    inside = isinstance(address, ipaddress.IPv6Address) and any(address in n for n in _ROUTED_INSIDE)
    if address.is_reserved and not inside:
        return f"{address} is not a unicast address"
    if address.is_global and not inside:
        return None
    if policy.allow_private and (address.is_private or address.is_loopback or inside):
        return None
    return f"{address} is a private or loopback address (set allow_private or allowed_networks to permit it)"


def host_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address, read without DNS: IPv6 in brackets or not, and the IPv4
    forms C resolvers accept (dotted, decimal ``2130706433``, hex ``0x7f.1``, octal)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:  # inet_aton reads decimal, hex and octal parts as getaddrinfo would
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve_checked(
    host: str, port: int, policy: OutboundPolicy, *, error: type[LakegateError] = LakegateError
) -> list[str]:
    """Resolve ``host`` once; every address must be allowed (else ``error``). Returns them in order."""
    literal = host_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise error(f"cannot resolve {host}: {exc}", detail={"host": host}) from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise error(f"cannot resolve {host}", detail={"host": host})
    for address in addresses:
        reason = check_address(address, policy)
        if reason is not None:
            raise error(
                f"refusing to connect to {host}: {reason}", detail={"host": host, "address": str(address)}
            )
    return [str(a) for a in addresses]


def tls_context() -> ssl.SSLContext:
    """System CAs + certifi's + ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (read here, not through trust_env)."""
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile and Path(cafile).is_file():
        context.load_verify_locations(cafile=cafile)
    if capath and Path(capath).is_dir():
        context.load_verify_locations(capath=capath)
    return context
