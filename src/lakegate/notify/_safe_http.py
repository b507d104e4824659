"""Outbound HTTP that cannot be pointed at internal services (SSRF).

For every request (and every redirect hop): resolve the host once, refuse if *any* of
its addresses is not allowed by the :class:`OutboundPolicy`, then connect to the checked
address itself (pinned) while keeping the ``Host`` header and the TLS SNI / certificate
check on the original name, so a second DNS answer cannot swap the target. Only 307/308
redirects are followed (they keep the POST body), each one checked again. Environment
proxies are ignored (a proxy would resolve the name itself) and connections are not kept
alive (the pool is keyed by address, not by the name the certificate was checked for).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Final

from lakegate.errors import NotificationError
from lakegate.notify._base import OutboundPolicy

if TYPE_CHECKING:
    import httpx

__all__ = ["METADATA_ADDRESSES", "check_address", "resolve_checked", "safe_post"]

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
_FOLLOWED: Final = frozenset({307, 308})


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


def resolve_checked(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Resolve ``host`` once; every address must be allowed. Returns them to connect to, in order."""
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
            raise NotificationError(f"cannot resolve {host}: {exc}", detail={"host": host}) from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise NotificationError(f"cannot resolve {host}", detail={"host": host})
    for address in addresses:
        reason = check_address(address, policy)
        if reason is not None:
            raise NotificationError(
                f"refusing to connect to {host}: {reason}", detail={"host": host, "address": str(address)}
            )
    return [str(a) for a in addresses]


def safe_post(url: str, *, content: bytes, headers: dict[str, str], policy: OutboundPolicy) -> httpx.Response:
    """POST ``content`` to ``url`` under ``policy``; ``NotificationError`` on refusal or failure."""
    import httpx

    # trust_env=False: an environment proxy would resolve the host itself and defeat the pinning.
    # No keep-alive: the pool is keyed by the pinned address, and a connection opened (and
    # certificate-checked) for one host name must not carry a request for another.
    with httpx.Client(
        trust_env=False,
        verify=_tls_context(),
        follow_redirects=False,
        timeout=policy.timeout,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for _hop in range(policy.max_redirects + 1):
            target = httpx.URL(url)
            if target.scheme not in {"http", "https"} or not target.host:
                raise NotificationError(f"refusing to post to {url!r}: not an http(s) URL")
            port = target.port or (443 if target.scheme == "https" else 80)
            addresses = resolve_checked(target.host, port, policy)
            host_header = f"[{target.host}]" if ":" in target.host else target.host
            if target.port is not None:
                host_header += f":{target.port}"
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            response = _post_pinned(
                client, target, addresses, content, {**headers, "Host": host_header}, extensions
            )
            if response.status_code in _FOLLOWED and "location" in response.headers:
                url = str(target.join(response.headers["location"]))
                continue
            if response.is_redirect:
                raise NotificationError(
                    f"POST to {target.host} was redirected ({response.status_code}); "
                    "only 307/308 are followed",
                    detail={"host": target.host, "status": response.status_code},
                )
            if response.status_code >= 400:
                raise NotificationError(
                    f"POST to {target.host} answered HTTP {response.status_code}",
                    detail={"host": target.host, "status": response.status_code, "body": response.text[:500]},
                )
            return response
    raise NotificationError(f"too many redirects posting to {url}", detail={"url": url})


def _tls_context() -> ssl.SSLContext:
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


def _post_pinned(
    client: httpx.Client,
    target: httpx.URL,
    addresses: list[str],
    content: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> httpx.Response:
    """POST to the checked addresses in turn (the next one only when connecting fails)."""
    import httpx

    for index, address in enumerate(addresses):
        try:
            return client.post(
                target.copy_with(host=address), content=content, headers=headers, extensions=extensions
            )
        except httpx.ConnectError as exc:
            if index + 1 < len(addresses):
                continue
            raise NotificationError(
                f"POST to {target.host} failed: cannot connect: {exc}", detail={"host": target.host}
            ) from exc
        except httpx.HTTPError as exc:
            raise NotificationError(
                f"POST to {target.host} failed: {type(exc).__name__}: {exc}", detail={"host": target.host}
            ) from exc
    raise NotificationError(f"POST to {target.host}: no address to connect to")
