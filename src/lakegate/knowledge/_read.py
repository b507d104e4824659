"""The read phase of a build: every file read, hashed, extracted (or reused), cleaned and chunked.

Files are read and extracted one by one (each can fail on its own and is then skipped with its
reason), but the text cleanup runs once over all pages of the build (:func:`clean_texts`, a few
vectorised regex passes), which is most of what per-file Python used to cost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lakegate.errors import ReaderError
from lakegate.knowledge._chunk import ChunkOptions, chunk_text, clean_texts
from lakegate.knowledge._extract import Page, extract, extractor_for, looks_binary
from lakegate.knowledge._incremental import Previous, reusable_records
from lakegate.knowledge._scan import SkippedFile, SourceFile

__all__ = ["ReadResult", "chunk_id", "file_meta", "read_all"]


@dataclass(slots=True)
class ReadResult:
    """Records in file order, the manifest entry of every indexed file, and what was skipped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    read: int = 0
    reused: int = 0


def chunk_id(path: str, index: int, text: str) -> str:
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"{path}\x00{index}\x00".encode())
    digest.update(text.encode())
    return digest.hexdigest()


def file_meta(src: SourceFile) -> dict[str, Any]:
    parts = src.path.split("/")
    name = parts[-1]
    dot = name.rfind(".")
    return {
        "path": src.path,
        "folder": "/".join(parts[:-1]) or ".",
        "subfolders": parts[:-1],
        "file_name": name,
        # pathlib's suffix: a leading dot alone (".profile") or a trailing one is no extension.
        "file_type": name[dot + 1 :].lower() if 0 < dot < len(name) - 1 else "",
        "modified": datetime.fromtimestamp(src.mtime_ns / 1e9, UTC).isoformat(timespec="seconds"),
        "size": src.size,
    }


def _sniff_unsupported(src: SourceFile) -> SkippedFile:
    """Why a file with no extractor is skipped: binary, or a text format we do not read."""
    try:
        with src.location.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        return SkippedFile(src.path, "unreadable", exc.strerror or str(exc))
    if looks_binary(head):
        return SkippedFile(src.path, "binary", "binary content")
    suffix = src.location.suffix or "no extension"
    return SkippedFile(src.path, "unsupported_type", f"no extractor for {suffix!r}")


@dataclass(slots=True)
class _Pending:
    """A file read in the first pass: its records if reused, else its pages awaiting cleanup."""

    src: SourceFile
    meta: dict[str, Any]
    digest: str
    reused: list[dict[str, Any]] | None
    pages: list[Page]


def _load(src: SourceFile, max_bytes: int, previous: Previous | None) -> _Pending | SkippedFile:
    if extractor_for(src.location) is None:
        return _sniff_unsupported(src)
    try:
        data = src.location.read_bytes()
    except OSError as exc:
        return SkippedFile(src.path, "unreadable", exc.strerror or str(exc))
    if len(data) > max_bytes:  # it grew since the scan
        return SkippedFile(src.path, "too_large", f"{len(data)} bytes > limit {max_bytes}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    meta = file_meta(src)
    reused = reusable_records(src.path, digest, meta["modified"], previous)
    if reused is not None:
        return _Pending(src, meta, digest, reused, [])
    pages = _extract(src, data)
    return pages if isinstance(pages, SkippedFile) else _Pending(src, meta, digest, None, pages)


def _extract(src: SourceFile, data: bytes) -> list[Page] | SkippedFile:
    try:
        return extract(src.location, data)
    except ReaderError as exc:
        reason = exc.detail.get("skip", "unreadable") if isinstance(exc.detail, dict) else "unreadable"
        return SkippedFile(src.path, reason, exc.reason)
    except Exception as exc:  # noqa: BLE001 - one broken file must never abort the build
        return SkippedFile(src.path, "unreadable", f"{type(exc).__name__}: {exc}")


def _records(
    meta: dict[str, Any], pages: list[Page], texts: list[str], chunking: ChunkOptions
) -> list[dict[str, Any]]:
    """The chunk records of one file; ``texts`` are its pages' cleaned texts (key order is the format)."""
    path = meta["path"]
    records: list[dict[str, Any]] = []
    for page, text in zip(pages, texts, strict=True):
        for piece in chunk_text(text, chunking):
            index = len(records)
            records.append(
                {
                    "id": chunk_id(path, index, piece),
                    **meta,
                    "page": page.number,
                    "chunk_index": index,
                    "text": piece,
                    "category": None,
                    "category_label": None,
                }
            )
    return records


def read_all(
    sources: list[SourceFile],
    chunking: ChunkOptions,
    max_bytes: int,
    previous: Previous | None,
    notify: Callable[[str, int, int], None],
) -> ReadResult:
    """Read every source (``notify("read", done, total)`` after each), then clean and chunk at once."""
    result = ReadResult()
    pending: list[_Pending] = []
    for done, src in enumerate(sources, start=1):
        outcome = _load(src, max_bytes, previous)
        if isinstance(outcome, SkippedFile):
            result.skipped.append(outcome)
        else:
            pending.append(outcome)
        notify("read", done, len(sources))
    cleaned = iter(clean_texts([page.text for p in pending for page in p.pages]))
    for item in pending:
        if item.reused is not None:
            records = item.reused
            result.reused += 1
        else:
            texts = [next(cleaned) for _ in item.pages]
            records = _records(item.meta, item.pages, texts, chunking)
            result.read += 1
        result.records.extend(records)
        result.files[item.src.path] = {
            "hash": item.digest,
            "size": item.src.size,
            "mtime_ns": item.src.mtime_ns,
            "chunks": len(records),
        }
    return result
