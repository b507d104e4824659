"""A ``requests`` session that cannot be pointed at internal services, for dlt's ``RESTClient``.

Every request, including each redirect hop and each "next page" URL a paginator finds,
goes through :class:`PinnedAdapter.send`: the host is resolved once with
:func:`lakegate._outbound.resolve_checked` (a refused address is a ``SourceError``), and
the connection goes to that checked address while the ``Host`` header, TLS SNI and the
certificate check stay on the original name (urllib3 pools take ``server_hostname`` /
``assert_hostname``, and both are part of the pool key, so a kept-alive connection is only
reused for the same name and address). Environment proxies are ignored (a proxy would
resolve the name itself). Secret headers are dropped when a request leaves the origin it
was configured for, and an optional rate limit spaces out every request, retries included.

Retries (429, 5xx, connection errors; exponential backoff honouring ``Retry-After``) come
from dlt's ``dlt.sources.helpers.requests.Client``, whose session we take and re-mount.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lakegate._outbound import OutboundPolicy, resolve_checked, tls_context
from lakegate.errors import SourceError

if TYPE_CHECKING:
    import requests

__all__ = ["make_session"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int]:
    from urllib3.util import parse_url

    parsed = parse_url(url)
    scheme = (parsed.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS or not parsed.host:
        raise SourceError(f"refusing to request {url!r}: not an http(s) URL", detail={"url": url})
    return scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS[scheme]


def _adapter_class() -> type[Any]:
    """Build the adapter class on first use (``requests`` is imported lazily)."""
    from requests.adapters import HTTPAdapter
    from requests.exceptions import ConnectionError as RequestsConnectionError

    class PinnedAdapter(HTTPAdapter):
        """Resolve, check and pin every request's host (see the module docstring)."""

        def __init__(
            self,
            policy: OutboundPolicy,
            *,
            origin: tuple[str, str, int],
            secret_headers: Iterable[str] = (),
            requests_per_second: float | None = None,
        ) -> None:
            super().__init__(pool_connections=4, pool_maxsize=4, max_retries=0)
            self.policy = policy
            self.origin = origin
            self.secret_headers = [h.lower() for h in secret_headers]
            self.interval = 1.0 / requests_per_second if requests_per_second else 0.0
            self._next_at = 0.0
            self._lock = threading.Lock()
            self._pinned = threading.local()
            self._tls = tls_context()

        def _wait_turn(self) -> None:
            if not self.interval:
                return
            with self._lock:
                now = time.monotonic()
                wait = self._next_at - now
                self._next_at = max(now, self._next_at) + self.interval
            if wait > 0:
                time.sleep(wait)

        def send(
            self,
            request: requests.PreparedRequest,
            stream: bool = False,
            timeout: Any = None,
            verify: Any = True,
            cert: Any = None,
            proxies: Any = None,
        ) -> requests.Response:
            origin = _origin(request.url or "")
            scheme, host, port = origin
            if origin != self.origin:
                for name in [k for k in request.headers if k.lower() in self.secret_headers]:
                    del request.headers[name]
            addresses = resolve_checked(host, port, self.policy, error=SourceError)
            host_header = f"[{host}]" if ":" in host else host
            if port != _DEFAULT_PORTS[scheme]:
                host_header += f":{port}"
            request.headers["Host"] = host_header
            self._wait_turn()
            for index, address in enumerate(addresses):
                self._pinned.address = address
                try:
                    return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert)
                except RequestsConnectionError:
                    if index + 1 == len(addresses):
                        raise
            raise SourceError(f"no address to connect to for {host}")  # pragma: no cover

        def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: Any, cert: Any = None
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            name = host_params["host"]
            host_params["host"] = self._pinned.address
            if host_params["scheme"] == "https":
                pool_kwargs["server_hostname"] = name
                pool_kwargs["assert_hostname"] = name
                if verify is True:
                    pool_kwargs["ssl_context"] = self._tls
            return host_params, pool_kwargs

    return PinnedAdapter


def make_session(
    url: str,
    policy: OutboundPolicy,
    *,
    secret_headers: Iterable[str] = (),
    requests_per_second: float | None = None,
    max_attempts: int = 5,
    backoff_factor: float = 1.0,
    max_delay: float = 60.0,
) -> requests.Session:
    """A retrying dlt session whose every request is checked against ``policy`` and pinned."""
    from dlt.sources.helpers.requests.retry import Client

    client = Client(
        request_timeout=policy.timeout,
        raise_for_status=False,  # RESTClient raises in its response hook (so retries see the status)
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_delay,
        respect_retry_after_header=True,
    )
    session: requests.Session = client.session
    session.trust_env = False  # no proxies, no .netrc: the pinned address is the one we connect to
    session.max_redirects = policy.max_redirects
    adapter = _adapter_class()(
        policy, origin=_origin(url), secret_headers=secret_headers, requests_per_second=requests_per_second
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
