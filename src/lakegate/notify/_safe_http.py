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

from typing import TYPE_CHECKING, Final

from lakegate._outbound import METADATA_ADDRESSES, OutboundPolicy, check_address, tls_context
from lakegate._outbound import resolve_checked as _resolve_checked
from lakegate.errors import NotificationError

if TYPE_CHECKING:
    import httpx

__all__ = ["METADATA_ADDRESSES", "check_address", "resolve_checked", "safe_post"]

_FOLLOWED: Final = frozenset({307, 308})


def resolve_checked(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Resolve ``host`` once; every address must be allowed. Returns them to connect to, in order."""
    return _resolve_checked(host, port, policy, error=NotificationError)


def safe_post(url: str, *, content: bytes, headers: dict[str, str], policy: OutboundPolicy) -> httpx.Response:
    """POST ``content`` to ``url`` under ``policy``; ``NotificationError`` on refusal or failure."""
    import httpx

    # trust_env=False: an environment proxy would resolve the host itself and defeat the pinning.
    # No keep-alive: the pool is keyed by the pinned address, and a connection opened (and
    # certificate-checked) for one host name must not carry a request for another.
    with httpx.Client(
        trust_env=False,
        verify=tls_context(),
        follow_redirects=False,
        timeout=policy.timeout,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for _hop in range(policy.max_redirects + 1):
            try:
                target = httpx.URL(url)
            except httpx.InvalidURL as exc:  # e.g. 0177.0.0.1: a dotted quad httpx will not read
                raise NotificationError(f"refusing to post to {url!r}: not a valid URL ({exc})") from None
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
