"""obstore's errors translated into lakegate's, at one seam (``raise ... from exc``).

- a missing object: :class:`NotFoundError`;
- an object that exists where it must not (a create-only put): :class:`ConflictError`;
- no answer (refused, timed out, no such host), or only "try later" (HTTP 429, 500, 502, 503,
  504) once the retries ran out: :class:`StorageUnavailableError`, a ``Transient`` error the
  job runner retries, naming the endpoint and the attempts;
- wrong, missing or powerless credentials, a missing bucket, an unknown option: one
  :class:`ConfigError` naming the setting to fix;
- anything else: a :class:`LakegateError` naming the object and the action.

obstore's message is one line (``Error performing GET http://host/b/k in 1.2s, after 3
retries ... - HTTP error: error sending request``) followed by ``Debug source:`` and the Rust
error's debug form, which holds the cause (``ConnectionRefused``, ``dns error``, ``Timeout``).
Credentials in URLs (``user:password@``) and query strings never reach a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from lakegate.errors import ConfigError, ConflictError, LakegateError, NotFoundError, StorageUnavailableError

__all__ = ["CREDENTIALS_HINT", "storage_errors"]

CREDENTIALS_HINT: Final = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or storage_options.aws_access_key_id and "
    "aws_secret_access_key), or run with an instance role"
)
_DEBUG = "\n\nDebug source:"
_USERINFO = re.compile(r"(https?://)[^/@\s]*@")
_QUERY = re.compile(r"(https?://[^\s?]*)\?\S*")
_REQUEST = re.compile(
    r"Error performing (?P<method>[A-Z]+) (?P<scheme>https?://)(?:[^/@\s]*@)?(?P<host>[^/?\s]+)(?P<path>[^?\s]*)"
    r"\S* in (?P<spent>[\d.]+)(?P<unit>ns|µs|us|ms|s)(?:, after (?P<retries>\d+) retries)?"
)
_STATUS = re.compile(r"status code: (?P<code>\d{3})\b(?P<reason>[A-Za-z ]*)")
_TRY_LATER: Final = frozenset({429, 500, 502, 503, 504})
_DENIED: Final = frozenset({401, 403})
_UNIT_SECONDS: Final = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# The instance-metadata and container credential endpoints object_store asks when no keys are set.
_CREDENTIAL_PATHS: Final = ("/latest/api/token", "/latest/meta-data/", "/v2/credentials", "/get-credentials")


def _scrub(text: str) -> str:
    return _QUERY.sub(r"\1", _USERINFO.sub(r"\1", text))


def _cause(debug: str) -> str:
    """What the Rust error's debug form says went wrong with a request that got no answer."""
    if "ConnectionRefused" in debug or "Connection refused" in debug:
        return "connection refused"
    if "dns error" in debug:
        return "host name not found"
    timed_out = "TimedOut" in debug or "timed out" in debug
    if timed_out and ("ConnectError" in debug or "kind: Connect" in debug):
        return "connect timed out"  # connect_timeout: hyper's ConnectError(..., TimedOut)
    if timed_out or "kind: Timeout" in debug:
        return "no response in time"  # timeout: connected, no (whole) answer in time
    return "no answer"


def _spent(request: re.Match[str]) -> str:
    seconds = float(request["spent"]) * _UNIT_SECONDS[request["unit"]]
    attempts = int(request["retries"] or 0) + 1
    return f", gave up after {attempts} attempt{'s' if attempts > 1 else ''} in {seconds:.1f}s"


def _translate(exc: Exception, *, uri: str, key: str, action: str) -> LakegateError:  # noqa: PLR0911
    from obstore.exceptions import (
        AlreadyExistsError,
        PermissionDeniedError,
        PreconditionError,
        UnauthenticatedError,
        UnknownConfigurationKeyError,
    )

    text = str(exc)
    head, _, debug = text.partition(_DEBUG)
    head = head.strip()
    where = f"{uri.rstrip('/')}/{key}" if key else uri
    request = _REQUEST.search(head)
    endpoint = f"{request['scheme']}{request['host']}" if request else None
    status = _STATUS.search(head)
    code = int(status["code"]) if status else None

    if isinstance(exc, UnknownConfigurationKeyError):
        found = re.search(r"key: '([^']+)'", head)
        option = found.group(1) if found else "?"
        return ConfigError(f"storage_options.{option}: not an option of an S3 storage ({uri})")
    if request is not None and request["path"].startswith(_CREDENTIAL_PATHS):
        return ConfigError(
            f"storage {uri}: no AWS credentials found ({endpoint}{request['path']} gave none); "
            + CREDENTIALS_HINT
        )
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError) or code in _DENIED:
        said = f"HTTP {code}" if code else "access denied"
        return ConfigError(
            f"storage {uri}: the credentials may not {action} {where} ({said}); check them: "
            + CREDENTIALS_HINT
            + ", with rights to list, read, write and delete under the prefix"
        )
    if "NoSuchBucket" in text:
        bucket = uri.removeprefix("s3://").split("/", 1)[0]
        return ConfigError(f"storage {uri}: the bucket {bucket!r} does not exist; create it or fix `storage`")
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"{where}: no such object in the storage", detail={"key": key})
    if isinstance(exc, AlreadyExistsError | PreconditionError):
        return ConflictError(f"{where}: already exists in the storage", detail={"key": key})
    if "error sending request" in head or (code is not None and code in _TRY_LATER):
        said = f"HTTP {code}{status['reason'].rstrip()}" if status and code else _cause(debug)
        at = f"{endpoint}: " if endpoint else ""
        spent = _spent(request) if request else ""
        return StorageUnavailableError(
            f"{uri}: the storage is unreachable ({at}{said}{spent}); try again once it is reachable",
            detail={"location": uri, "key": key, "reason": "unreachable"},
        )
    reason = _scrub(head)[:300] or type(exc).__name__
    return LakegateError(f"{where}: cannot {action} in the storage ({reason})", detail={"key": key})


@contextmanager
def storage_errors(uri: str, key: str, action: str) -> Iterator[None]:
    """Translate obstore and filesystem errors raised inside into lakegate's error tree."""
    try:
        yield
    except LakegateError:
        raise
    except Exception as exc:
        from obstore.exceptions import BaseError

        if not isinstance(exc, BaseError | OSError):
            raise
        raise _translate(exc, uri=uri, key=key, action=action) from exc
