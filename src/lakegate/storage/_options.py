"""``storage_options`` (the lake's flat object_store keys) split the way obstore takes them.

The lake passes one flat mapping to delta-rs (``aws_endpoint_url``, ``aws_allow_http``,
``timeout``, ``max_retries``, ...). obstore, the Python binding of the same Rust
``object_store`` crate, wants three: the S3 settings, the HTTP client's (``allow_http``,
``timeout``, ...) and the retry policy (``max_retries`` as an int, ``retry_timeout`` as a
timedelta). Given a client key among the S3 settings it panics (a ``BaseException`` that
``except Exception`` does not catch), so every key is sorted here, and the same
``storage_options`` a team writes for ``lake_storage_options`` work unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from lakegate.errors import ConfigError
from lakegate.lake._location import CLIENT_DEFAULTS, parse_duration

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

__all__ = ["S3Options", "split_options"]

#: obstore's ``ClientConfig`` keys; object_store also takes each with an ``aws_`` prefix.
CLIENT_KEYS: Final = frozenset(
    {
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "default_content_type",
        "http1_only",
        "http2_keep_alive_interval",
        "http2_keep_alive_timeout",
        "http2_keep_alive_while_idle",
        "http2_only",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "proxy_ca_certificate",
        "proxy_excludes",
        "proxy_url",
        "randomize_addresses",
        "read_timeout",
        "root_certificate",
        "timeout",
        "user_agent",
    }
)


@dataclass(frozen=True)
class S3Options:
    """The three mappings obstore's ``S3Store`` takes, from one flat ``storage_options``."""

    config: S3Config
    client: ClientConfig
    retry: RetryConfig

    @property
    def endpoint(self) -> str | None:
        """The S3 endpoint when one is set (a MinIO or other S3-compatible server)."""
        raw: Mapping[str, Any] = self.config
        for key in ("aws_endpoint_url", "aws_endpoint", "endpoint_url", "endpoint"):
            if raw.get(key):
                return str(raw[key])
        return None


def split_options(options: Mapping[str, str], *, setting: str = "storage_options") -> S3Options:
    """Sort ``options`` (over :data:`CLIENT_DEFAULTS`) into S3, client and retry settings.

    A bad ``max_retries`` or ``retry_timeout`` is a ``ConfigError`` naming ``setting``; an
    unknown key stays among the S3 settings, where obstore refuses it by name.
    """
    config: dict[str, str] = {}
    client: dict[str, str] = {}
    retry: dict[str, Any] = {}
    for key, value in (dict(CLIENT_DEFAULTS) | dict(options)).items():
        bare = key.lower().removeprefix("aws_")
        if bare in CLIENT_KEYS:
            client[bare] = str(value)
        elif bare == "max_retries":
            text = str(value).strip()
            if not text.isdigit():
                raise ConfigError(f"{setting}.max_retries: {value!r} is not a whole number")
            retry["max_retries"] = int(text)
        elif bare == "retry_timeout":
            try:
                retry["retry_timeout"] = timedelta(seconds=parse_duration(str(value)))
            except ValueError as exc:
                raise ConfigError(f"{setting}.retry_timeout: {exc}") from None
        else:
            config[key] = str(value)
    # TypedDicts are not constructible from a runtime dict; obstore checks the keys itself.
    return S3Options(config=config, client=client, retry=retry)  # type: ignore[arg-type]
