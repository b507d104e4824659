"""Staged files: written under a temporary name, hashed while written, renamed when complete.

Staged bytes are deterministic for the same fetched data (sorted JSON keys, stable row
order, Parquet with fixed settings and no timestamps), so a rerun after a crash stages
the very same file and the lake's content-hash dedupe makes it a no-op.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final

__all__ = ["NdjsonStage", "SeenKeys", "finish", "local_name", "mask_url", "record_keys", "staging_path"]

_SUFFIX: Final = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def staging_path(workdir: Path, stem: str) -> Path:
    """A fresh temporary path in ``workdir`` (never visible under a final name)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / f".{stem}.{uuid.uuid4().hex[:12]}.part"


def finish(scratch: Path, workdir: Path, stem: str, digest: str, suffix: str) -> Path:
    """Rename a complete staged file to ``<stem>-<digest[:16]><suffix>`` and return that path."""
    final = workdir / f"{stem}-{digest[:16]}{suffix}"
    scratch.replace(final)
    return final


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def record_keys(records: Iterable[Any]) -> list[str]:
    """Short stable keys of records (dicts or row tuples): a hash of their sorted-key JSON.

    Incremental sources keep the keys of the records at the stored cursor value, so a rerun
    that fetches that value again (``>=``) skips exactly those and keeps any newcomer that
    shares the value. Values JSON has no type for (``Decimal``, ``UUID``) hash as their text.
    """
    import orjson

    option = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    return [
        hashlib.blake2b(orjson.dumps(r, default=str, option=option), digest_size=8).hexdigest()
        for r in records
    ]


class SeenKeys:
    """The keys of the records fetched before at the stored cursor, as a multiset.

    :meth:`consume` answers whether a record fetched again was one of them; each stored key
    matches one record only, so a new record identical to an old one is still new.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self._left = Counter(keys)

    def consume(self, key: str) -> bool:
        if self._left[key] > 0:
            self._left[key] -= 1
            return True
        return False


def local_name(key: str) -> str:
    """A safe file name for an object key: a hash of the key plus its (sanitised) extensions.

    The key is never used as a path (``../``, absolute keys, odd bytes); ``a/b.csv.gz``
    gives ``<sha256(key)[:24]>.csv.gz``.
    """
    name = key.rpartition("/")[2]
    suffixes = [s for s in Path(name).suffixes[-2:] if _SUFFIX.match(s)]
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24] + "".join(suffixes).lower()


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for labels, logs and errors)."""
    return re.sub(r"(://[^:/@\s]+):[^@/\s]*@", r"\1:***@", url)


class NdjsonStage:
    """Append records as JSON lines with sorted keys; hashes and counts as it writes."""

    def __init__(self, workdir: Path, stem: str) -> None:
        self.workdir = workdir
        self.stem = stem
        self.scratch = staging_path(workdir, stem)
        self.rows = 0
        self.bytes = 0
        self._digest = hashlib.sha256()
        self._handle: BinaryIO = self.scratch.open("wb")

    def write(self, records: Iterable[Any]) -> None:
        """Write records (objects; anything else is wrapped as ``{"value": ...}``)."""
        import orjson

        option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
        data = b"".join(
            orjson.dumps(r if isinstance(r, dict) else {"value": r}, option=option) for r in records
        )
        if data:
            self._handle.write(data)
            self._digest.update(data)
            self.bytes += len(data)
            self.rows += data.count(b"\n")

    def commit(self) -> tuple[Path, str]:
        """Close and rename; returns (final path, sha256)."""
        self._handle.close()
        digest = self._digest.hexdigest()
        return finish(self.scratch, self.workdir, self.stem, digest, ".jsonl"), digest

    def __enter__(self) -> NdjsonStage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._handle.close()
        self.scratch.unlink(missing_ok=True)  # a committed file was renamed away already
