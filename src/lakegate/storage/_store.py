"""The storage of shared state: one object-store prefix (or local folder) behind one class.

Both backends are obstore stores (``S3Store`` for ``s3://``, ``LocalStore`` for a folder),
so puts, lists and errors behave the same on a laptop and on a cluster; only
:meth:`Storage.local_path` tells them apart, for callers that can use a file in place.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from lakegate.errors import ConfigError
from lakegate.storage._errors import storage_errors
from lakegate.storage._keys import join_key
from lakegate.storage._options import split_options

if TYPE_CHECKING:
    from obstore import ObjectMeta, ReadableFile
    from obstore.store import LocalStore, S3Store

    from lakegate.config import Settings

__all__ = ["ObjectInfo", "Storage", "open_storage"]

#: Bytes per ranged read. Each is its own request: ``timeout`` (30 s by default) bounds one
#: request body included, so one GET of a large file on a slow link would be cut off.
READ_CHUNK: Final = 8 * 1024 * 1024
_PROBE_DIR: Final = ".lakegate-check"


@dataclass(frozen=True)
class ObjectInfo:
    """One object: its key (relative to the storage root), size and modification time."""

    key: str
    size: int
    last_modified: datetime
    etag: str | None = None

    @classmethod
    def _from_meta(cls, meta: ObjectMeta) -> ObjectInfo:
        return cls(meta["path"], meta["size"], meta["last_modified"], meta.get("e_tag"))


class Storage:
    """Files shared by every lakegate process: ``s3://bucket/prefix`` or a local folder.

    Build it with :func:`lakegate.storage.open_storage` (from the settings) or directly:
    ``Storage("s3://bucket/prefix", {"aws_region": "eu-west-1"})``, ``Storage("/srv/state")``
    or ``Storage("file:///srv/state")``. ``options`` are the lake's object_store keys
    (``lake_storage_options``), with the same client defaults; credentials come from the
    standard ``AWS_*`` variables unless the options hold them. They are never shown.

    Every put is atomic: a reader sees the whole object or none (S3 puts and multipart
    uploads are; a local put writes a temporary file and renames it). Errors are lakegate's:
    ``NotFoundError``, ``ConflictError``, ``StorageUnavailableError`` (transient),
    ``ConfigError`` (credentials, bucket, options), ``InputError`` (a bad key).

    Not fork-safe (obstore runs a tokio runtime): in a process that has used any storage, a
    forked child hangs on its first storage call, even with a new ``Storage``. Threads are
    fine; processes must be spawned, not forked, as ``lakegate up`` and Huey's thread workers do.
    """

    def __init__(self, uri: str | Path, options: Mapping[str, str] | None = None) -> None:
        text = str(uri).strip()
        self._options = MappingProxyType(dict(options or {}))
        self._local: Path | None = None
        if text.startswith("s3://"):
            bucket_and_prefix = text.removeprefix("s3://").rstrip("/")
            if not bucket_and_prefix.split("/", 1)[0]:
                raise ConfigError(f"storage {text!r} names no bucket; use s3://bucket/prefix")
            self.uri = f"s3://{bucket_and_prefix}"
        elif "://" in text and not text.startswith("file://"):
            raise ConfigError(f"storage {text!r}: use s3://bucket/prefix, file:///folder or a folder path")
        else:
            if self._options:
                raise ConfigError("storage_options applies only to an s3:// storage")
            folder = Path(text.removeprefix("file://")).expanduser()
            if not folder.is_absolute():
                raise ConfigError(f"storage {text!r}: a local storage needs an absolute folder")
            self._local = folder
            self.uri = folder.as_uri()
        self._split = split_options(self._options) if self._local is None else None
        self._store_cache: S3Store | LocalStore | None = None

    def __repr__(self) -> str:
        return f"Storage({self.uri!r})"

    @property
    def local_root(self) -> Path | None:
        """The folder of a local storage, else None."""
        return self._local

    def describe(self) -> str:
        """The storage for a start log line: URI and endpoint, never credentials."""
        endpoint = self._split.endpoint if self._split is not None else None
        return f"{self.uri} (endpoint {endpoint})" if endpoint else self.uri

    def url(self, key: str) -> str:
        """The full URI of ``key`` (for messages; catalog rows keep the key itself)."""
        return f"{self.uri}/{join_key(key)}"

    def local_path(self, key: str) -> Path | None:
        """The file of ``key`` on a local storage (to read in place, never to write), else None."""
        return None if self._local is None else self._local / join_key(key)

    @property
    def _store(self) -> S3Store | LocalStore:
        if self._store_cache is None:
            self._store_cache = self._build()
        return self._store_cache

    def _build(self) -> S3Store | LocalStore:
        from obstore.store import LocalStore, S3Store

        if self._local is not None:
            with storage_errors(self.uri, "", "open"):
                self._local.mkdir(parents=True, exist_ok=True)
                # automatic_cleanup: deleting a folder's last file removes the folder too.
                return LocalStore(self._local, automatic_cleanup=True)
        assert self._split is not None
        split = self._split
        with storage_errors(self.uri, "", "open"):
            try:
                return S3Store.from_url(
                    self.uri, config=split.config, client_options=split.client, retry_config=split.retry
                )
            except BaseException as exc:
                # obstore panics (pyo3's PanicException, a BaseException) on an option it
                # cannot place; say which setting is wrong instead of killing the process.
                if type(exc).__name__ != "PanicException":
                    raise
                raise ConfigError(f"storage_options: obstore refused the options ({exc})") from None

    # -- writes ---------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = True) -> str:
        """Store ``data`` at ``key`` atomically and return the key.

        ``overwrite=False`` is a create-only put: ``ConflictError`` when ``key`` exists (a
        conditional put on S3, so two processes can never both create it).
        """
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "write"):
            obstore.put(self._store, key, data, mode="overwrite" if overwrite else "create")
        return key

    def put_file(self, key: str, path: Path, *, overwrite: bool = True) -> str:
        """Upload the local file ``path`` to ``key`` atomically and return the key."""
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "write"):
            # Large files go up in parts; the object appears only once the last part is in.
            obstore.put(self._store, key, path, mode="overwrite" if overwrite else "create")
        return key

    def move_file(self, key: str, path: Path) -> str:
        """Store the local file ``path`` at ``key`` and remove ``path`` (a rename on a local storage).

        For files lakegate holds itself (a staged upload, a scratch batch): a large file in
        the project's own folder moves in place instead of being copied.
        """
        key = join_key(key)
        if self._local is not None:
            target = self._local / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with storage_errors(self.uri, key, "write"):
                try:
                    path.replace(target)  # same filesystem: atomic and free
                    return key
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
        self.put_file(key, path)
        path.unlink(missing_ok=True)
        return key

    def local_copy(self, key: str, scratch: Path) -> Path:
        """A local file holding ``key``: the file itself on a local storage (read it, never
        write it), else a download into the folder ``scratch``."""
        local = self.local_path(key)
        if local is not None:
            if not local.is_file():
                from lakegate.errors import NotFoundError

                raise NotFoundError(f"{self.url(key)}: no such object", detail={"key": key})
            return local
        return self.download(key, scratch / key.rsplit("/", 1)[-1])

    def delete(self, key: str) -> None:
        """Delete ``key``; a key that is already gone is fine (deletes are retried)."""
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "delete"), contextlib.suppress(FileNotFoundError):
            obstore.delete(self._store, key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object below ``prefix``; returns how many there were."""
        import obstore

        keys = [info.key for info in self.list_objects(prefix)]
        for start in range(0, len(keys), 1000):  # S3 bulk delete takes 1,000 keys a request
            batch = keys[start : start + 1000]
            with storage_errors(self.uri, prefix, "delete"):
                try:
                    obstore.delete(self._store, batch)
                except FileNotFoundError:
                    for key in batch:  # one was deleted meanwhile (local store): the rest one by one
                        self.delete(key)
        return len(keys)

    # -- reads ----------------------------------------------------------------------------

    def info(self, key: str) -> ObjectInfo:
        """Size and modification time of ``key`` (``NotFoundError`` when missing)."""
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "read"):
            return ObjectInfo._from_meta(obstore.head(self._store, key))

    def exists(self, key: str) -> bool:
        from lakegate.errors import NotFoundError

        try:
            self.info(key)
        except NotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return self.info(key).size

    def get_bytes(self, key: str) -> bytes:
        """The whole object at ``key`` (for small ones: manifests, reasons, reports)."""
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "read"):
            return obstore.get(self._store, key).bytes().to_bytes()

    def open(self, key: str) -> BinaryIO:
        """A streaming, buffered reader of ``key`` (ranged reads of :data:`READ_CHUNK` bytes).

        It is opened at once, so a missing object is a ``NotFoundError`` here, not at the
        first read. Close it (``with storage.open(key) as f: ...``).
        """
        import obstore

        key = join_key(key)
        with storage_errors(self.uri, key, "read"):
            reader = obstore.open_reader(self._store, key, buffer_size=READ_CHUNK)
        raw = _RangedReader(reader, uri=self.uri, key=key)
        return io.BufferedReader(raw, buffer_size=READ_CHUNK)

    def download(self, key: str, dest: Path) -> Path:
        """Copy ``key`` to the local file ``dest`` (written beside it, then renamed into place)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as source:
            handle, temp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as out:
                    while chunk := source.read(READ_CHUNK):
                        out.write(chunk)
                Path(temp).replace(dest)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        return dest

    def download_prefix(self, prefix: str, dest: Path) -> list[Path]:
        """Copy every object below ``prefix`` into the folder ``dest`` (same relative paths)."""
        prefix = join_key(prefix)
        paths = []
        for info in self.list_objects(prefix):
            relative = info.key.removeprefix(prefix).lstrip("/")
            paths.append(self.download(info.key, dest / relative))
        return paths

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object below ``prefix`` (all levels, sorted by key); ``""`` lists everything."""
        import obstore

        prefix = join_key(prefix) if prefix else ""
        with storage_errors(self.uri, prefix, "list"):
            chunks = obstore.list(self._store, prefix or None, chunk_size=1000)
            found = [ObjectInfo._from_meta(meta) for chunk in chunks for meta in chunk]
        return sorted(found, key=lambda info: info.key)

    def list_dirs(self, prefix: str = "") -> list[str]:
        """The keys of the "folders" right below ``prefix`` (e.g. attempts, to find abandoned ones)."""
        import obstore

        prefix = join_key(prefix) if prefix else ""
        with storage_errors(self.uri, prefix, "list"):
            result = obstore.list_with_delimiter(self._store, prefix or None)
        return sorted(str(common).rstrip("/") for common in result["common_prefixes"])

    # -- start-up check -------------------------------------------------------------------

    def check(self) -> None:
        """Prove at start that the storage answers and these credentials may list, write and delete.

        Raises ``ConfigError`` (credentials, bucket, options: the setting to fix) or
        ``StorageUnavailableError`` (no answer), so a process fails at start, not at its
        first job. Writes and deletes one small probe object below ``.lakegate-check/``.
        """
        from lakegate.storage._keys import unique_key

        self.list_objects(_PROBE_DIR)
        probe = unique_key(_PROBE_DIR)
        self.put_bytes(probe, b"lakegate storage check\n")
        if self.get_bytes(probe) != b"lakegate storage check\n":
            raise ConfigError(f"storage {self.uri}: a probe object read back different bytes")
        self.delete(probe)


def open_storage(settings: Settings) -> Storage:
    """The storage ``settings`` name: ``storage`` (+ ``storage_options``), or ``.lakegate/``.

    A relative folder is relative to the project. One :class:`Storage` (and one client
    connection pool) per place and options in a process. Nothing is contacted here; call
    :meth:`Storage.check` at start to fail early on wrong credentials or an unreachable store.
    """
    if settings.storage is None:
        return _storage(str(settings.paths.state), ())
    if settings.storage.startswith("s3://"):
        return _storage(settings.storage, tuple(sorted(settings.storage_options.items())))
    folder = Path(settings.storage.removeprefix("file://")).expanduser()
    return _storage(str(folder if folder.is_absolute() else settings.project_dir / folder), ())


@functools.lru_cache(maxsize=16)
def _storage(uri: str, options: tuple[tuple[str, str], ...]) -> Storage:
    return Storage(uri, dict(options))


class _RangedReader(io.RawIOBase):
    """``io.RawIOBase`` over obstore's ``ReadableFile``, translating its errors."""

    def __init__(self, reader: ReadableFile, *, uri: str, key: str) -> None:
        self._reader, self._uri, self._key = reader, uri, key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with storage_errors(self._uri, self._key, "read"):
            chunk = self._reader.read(len(view))
        size = len(chunk)
        view[:size] = memoryview(chunk)
        return size

    def close(self) -> None:
        if not self.closed:
            self._reader.close()
        super().close()
