"""Where a Delta table lives: a local folder or an object-store URI (``s3://bucket/prefix/name``).

Every table function takes a ``Path`` (a local folder, as always) or a :class:`TableLocation`;
``storage_options`` are object_store keys (``aws_endpoint_url``, ``aws_region``,
``aws_allow_http``, ...) for delta-rs and polars; credentials normally come from the standard
``AWS_*`` environment variables, which both read themselves.

A remote table also gets :data:`CLIENT_DEFAULTS` under its own options: object_store's own
defaults (a 3-minute retry budget per request) let an ingest hang for minutes against a lake
that does not answer; these make it fail in seconds with an error saying the lake is
unreachable. Options given by the user always win.

delta-rs and polars disagree on the retry keys: delta-rs takes ``max_retries`` and
``retry_timeout`` as strings (``"3"``, ``"10s"``), polars rejects a string ``max_retries`` and
reads its retry budget only from an integer ``retry_timeout_ms``. So there are two views:
:attr:`TableLocation.options` for delta-rs and :attr:`TableLocation.polars_options` for polars.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from lakegate.errors import ConfigError, LakeError, LakegateError, LakeUnavailableError

__all__ = [
    "CLIENT_DEFAULTS",
    "TableLocation",
    "as_location",
    "disk_problem",
    "parse_duration",
    "table_errors",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: object_store client options every remote table gets unless its own options set them.
#: A connection that is refused fails in about a second; a blackholed endpoint (connects that
#: hang) after ~10 s (two 5 s connect attempts); a server that accepts and never answers after
#: one ``timeout``. ``timeout`` bounds a whole request, body included, so it stays at
#: object_store's 30 s: lower would cut large part uploads on a slow link. No ``max_retries``:
#: ``retry_timeout`` already bounds the retries, and polars rejects the string form.
CLIENT_DEFAULTS: Final[Mapping[str, str]] = MappingProxyType(
    {"connect_timeout": "5s", "timeout": "30s", "retry_timeout": "10s"}
)
#: Duration-valued options (humantime strings such as "5s", "1m 30s", "500ms").
DURATION_KEYS: Final = frozenset({"connect_timeout", "timeout", "retry_timeout", "pool_idle_timeout"})
#: polars-only keys it wants as integers (a string is an error there; delta-rs ignores them).
_POLARS_INT_KEYS: Final = frozenset(
    {"max_retries", "retry_timeout_ms", "retry_init_backoff_ms", "retry_max_backoff_ms", "file_cache_ttl"}
)
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)")
_UNIT_SECONDS: Final = {
    **dict.fromkeys(("ms", "msec", "msecs", "millis"), 0.001),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
}


def parse_duration(text: str) -> float:
    """Seconds in a duration as object_store reads it (``"10s"``, ``"1m 30s"``, ``"500ms"``).

    ``ValueError`` when it is not one (a bare number has no unit and is not one either).
    """
    value = text.strip()
    total, end = 0.0, 0
    for match in _DURATION_PART.finditer(value):
        if match.start() != end or match.group(2) not in _UNIT_SECONDS:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        end = match.end()
    if not value or end != len(value):
        raise ValueError(f"{text!r} is not a duration (use e.g. 5s, 500ms, 2m)")
    return total


@dataclass(frozen=True)
class TableLocation:
    """A Delta table's URI plus the options to reach it (never shown: they may hold secrets)."""

    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        return self.uri

    @property
    def local(self) -> Path | None:
        """The folder when the table is on the local filesystem (a path or ``file://``), else None."""
        if self.uri.startswith("file://"):
            return Path(self.uri.removeprefix("file://"))
        return None if "://" in self.uri else Path(self.uri)

    @property
    def name(self) -> str:
        """The last segment of the URI (the dataset name for a table in the lake)."""
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    @property
    def options(self) -> dict[str, str] | None:
        """Options for delta-rs: :data:`CLIENT_DEFAULTS` (remote tables only) under ``storage_options``.

        None when there are none (a local table). polars takes :attr:`polars_options`.
        """
        defaults = {} if self.local is not None else dict(CLIENT_DEFAULTS)
        return (defaults | dict(self.storage_options)) or None

    @property
    def polars_options(self) -> dict[str, Any] | None:
        """:attr:`options` in the form polars takes (its ``pl.scan_*`` ``storage_options``).

        Its integer keys become ints, and ``retry_timeout`` is also given as the
        ``retry_timeout_ms`` polars reads (unless set); the string ``retry_timeout`` stays for
        the delta-rs table that ``pl.scan_delta`` opens (polars drops its own keys there).
        """
        options: dict[str, Any] | None = self.options
        if options is None:
            return None
        for key in _POLARS_INT_KEYS & options.keys():
            value = str(options[key]).strip()
            if not value.isdigit():
                raise ConfigError(f"{self.uri}: storage option {key}: {value!r} is not a whole number")
            options[key] = int(value)
        if "retry_timeout" in options and "retry_timeout_ms" not in options:
            try:
                options["retry_timeout_ms"] = round(parse_duration(options["retry_timeout"]) * 1000)
            except ValueError as exc:
                raise ConfigError(f"{self.uri}: storage option retry_timeout: {exc}") from exc
        return options

    @property
    def target(self) -> str:
        """What delta-rs and polars open: the folder for a local table, else the URI."""
        local = self.local
        return str(local) if local is not None else self.uri

    def child(self, name: str) -> TableLocation:
        """The location ``name`` below this one, with the same options."""
        return TableLocation(f"{self.uri.rstrip('/')}/{name}", self.storage_options)

    def exists(self) -> bool:
        """Whether a Delta table is there (its ``_delta_log`` holds a commit)."""
        local = self.local
        if local is not None:
            return (local / "_delta_log").is_dir()
        from deltalake import DeltaTable

        with table_errors(self, "reach"):  # a missing bucket or a refused connection
            return bool(DeltaTable.is_deltatable(self.uri, storage_options=self.options))

    def delete(self) -> None:
        """Remove the table and every file under it (a first write the catalog never recorded)."""
        local = self.local
        if local is not None:
            import shutil

            shutil.rmtree(local)
            return
        # delta-rs's own object store, built from the same options that wrote the table;
        # it deletes exactly the objects under ``<uri>/`` (not a sibling such as ``<uri>2/``).
        from deltalake.fs import DeltaStorageHandler

        DeltaStorageHandler(self.uri, self.options).delete_dir("")


@contextmanager
def table_errors(location: TableLocation | Path | str, action: str) -> Iterator[None]:
    """Turn delta-rs and object-store failures into a ``LakegateError`` naming the table.

    delta-rs reports S3 failures as ``OSError`` with a chain of causes on separate lines
    (and terminal colours); the message keeps the chain on one line. A request that got no
    HTTP answer at all (refused, timed out, no such host) is a :class:`LakeUnavailableError`
    saying the lake is unreachable: the data is not at fault, and the same call works once
    the lake is back. So is a lake that answers, but only "try later" (HTTP 429, 500, 502, 503,
    504: S3 throttling, a proxy in front of a storage that is down) once the retries ran out.
    Credentials in URLs (``user:password@``) never reach a message.
    """
    from deltalake.exceptions import DeltaError

    try:
        yield
    except LakegateError:
        raise
    except (DeltaError, OSError) as exc:
        lines = (_ANSI.sub("", line).strip(" ↳") for line in str(exc).splitlines())
        chain = _USERINFO.sub(r"\1", ": ".join(line for line in lines if line))
        if (unreachable := _unreachable(chain)) is not None:
            raise LakeUnavailableError(
                f"{location}: the lake is unreachable ({unreachable}); try again once it is reachable",
                detail={"location": str(location), "reason": "unreachable"},
            ) from exc
        if (disk := disk_problem(exc)) is not None:
            raise LakeError(
                f"{location}: cannot {action} the Delta table: {disk}; nothing was committed",
                detail={"location": str(location), "reason": disk},
            ) from exc
        reason = chain[:300] or type(exc).__name__
        raise LakeError(
            f"{location}: cannot {action} the Delta table ({reason})",
            detail={"location": str(location), "reason": reason},
        ) from exc


# A disk that refuses writes, as errno or as delta-rs / object_store put it in words.
_DISK: Final = (
    (errno.ENOSPC, ("no space left on device", "os error 28"), "the disk is full (no space left on device)"),
    (errno.EDQUOT, ("disk quota exceeded", "os error 122"), "the disk quota is exceeded"),
    (errno.EROFS, ("read-only file system", "os error 30"), "the file system is read-only"),
)


def disk_problem(exc: BaseException) -> str | None:
    """What a full or read-only disk looks like to a user, when ``exc`` (or a cause) is one; else None."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        for number, words, say in _DISK:
            if (isinstance(seen, OSError) and seen.errno == number) or any(w in text for w in words):
                return say
        seen = seen.__cause__ or seen.__context__
    return None


# object_store's "error sending request": the request never got an HTTP response.
_NOT_SENT = "error sending request"
# An answer that means "not now": object_store says "Server returned non-2xx status code: 503 ...".
_TRY_LATER = re.compile(r"status code: (429|500|502|503|504)\b( [A-Za-z ]+)?")
_USERINFO = re.compile(r"(://)[^/@\s]*@")
_ENDPOINT = re.compile(r"\b[A-Z]+ (https?://)(?:[^/@\s]*@)?([^/?\s]+)")  # no userinfo, path or query
_SPENT = re.compile(r" in ([\d.]+)s(?:, after (\d+) retries)?")  # no "after" when none
_CAUSES: Final = (  # (all these words in the cause, what to say), first match wins
    (("connection refused",), "connection refused"),
    (("connect", "deadline has elapsed"), "connect timed out"),  # connect_timeout
    (("connect)", "timed out"), "connect timed out"),  # "client error (Connect): ... timed out"
    (("timed out",), "no response in time"),  # timeout
    (("dns error",), "host name not found"),
)


def _unreachable(chain: str) -> str | None:
    """Where and why a request got no usable answer (``chain`` is the one-line error), else None."""
    if _NOT_SENT in chain:
        request, cause = chain.split(_NOT_SENT, 1)
        cause = cause.strip(" :")
        lowered = cause.lower()
        said = (short for words, short in _CAUSES if all(word in lowered for word in words))
        cause = next(said, cause[:150] or "no answer")
    elif (busy := _TRY_LATER.search(chain)) is not None:
        request, cause = chain[: busy.start()], f"HTTP {busy.group(1)}{busy.group(2)}".strip()
    else:
        return None
    endpoint = _ENDPOINT.search(request)
    where = f"{endpoint.group(1)}{endpoint.group(2)}: " if endpoint else ""
    spent = _SPENT.search(request)
    if spent is None:
        return where + cause
    attempts = int(spent.group(2) or 0) + 1
    plural = "s" if attempts > 1 else ""
    return f"{where}{cause}, gave up after {attempts} attempt{plural} in {float(spent.group(1)):.1f}s"


def as_location(table: Path | TableLocation) -> TableLocation:
    """``table`` as a :class:`TableLocation` (a ``Path`` is a local folder without options)."""
    return table if isinstance(table, TableLocation) else TableLocation(str(table))
