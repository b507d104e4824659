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


def check_address(address: IPAddress, policy: OutboundPolicy) -> str | None:  # noqa: PLR0911
    """``None`` when ``address`` may be contacted, else the reason it may not."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in ipaddress.ip_network(n, strict=False) for n in policy.allowed_networks):
        return None
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a unicast address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_global:
        return None
    if policy.allow_private and (address.is_private or address.is_loopback):
        return None
    return f"{address} is a private or loopback address (set allow_private or allowed_networks to permit it)"


def resolve_checked(
    host: str, port: int, policy: OutboundPolicy, *, error: type[LakegateError] = LakegateError
) -> list[str]:
    """Resolve ``host`` once; every address must be allowed (else ``error``). Returns them in order."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
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
