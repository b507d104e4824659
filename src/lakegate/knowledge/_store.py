"""The files of a knowledge base on disk, each written atomically (temp file in the same folder + rename).

``kb.jsonl``               one chunk record per line (the knowledge base itself)
``kb.embeddings.parquet``  ``id`` + ``vector`` (fixed-size float32 list), same order as the JSONL
``kb.embedder.npz``        what queries need to be embedded the same way (no pickle)
``kb.manifest.json``       settings, content hash per file (incremental rebuilds), categories

The manifest is renamed into place last: a build that dies half-way leaves the previous
manifest, whose hashes no longer match, so the next build redoes the work instead of trusting it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError, NotFoundError

__all__ = [
    "MANIFEST_FORMAT",
    "KBPaths",
    "atomic_write",
    "iter_records",
    "read_embeddings",
    "read_manifest",
    "write_embeddings",
    "write_json",
    "write_records",
]

MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class KBPaths:
    """Where the files of the knowledge base ``jsonl`` live (all beside it, sharing its stem)."""

    jsonl: Path

    @classmethod
    def of(cls, path: Path | str) -> KBPaths:
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path} is a folder; name the knowledge base file, e.g. {path / 'kb.jsonl'}")
        return cls(path)

    def _sibling(self, suffix: str) -> Path:
        name = self.jsonl.name
        stem = name.removesuffix(".jsonl")
        return self.jsonl.with_name(stem + suffix)

    @property
    def embeddings(self) -> Path:
        return self._sibling(".embeddings.parquet")

    @property
    def embedder(self) -> Path:
        return self._sibling(".embedder.npz")

    @property
    def manifest(self) -> Path:
        return self._sibling(".manifest.json")

    def all(self) -> tuple[Path, ...]:
        return (self.jsonl, self.embeddings, self.embedder, self.manifest)

    def require(self) -> None:
        """Raise :class:`NotFoundError` unless every file of a built knowledge base is there."""
        if not self.jsonl.is_file():
            raise NotFoundError(
                f"no knowledge base at {self.jsonl}; build one with 'lakegate kb build FOLDER'"
            )
        missing = [p.name for p in self.all() if not p.is_file()]
        if missing:
            raise NotFoundError(
                f"knowledge base {self.jsonl} is incomplete (missing {', '.join(missing)}); rebuild it"
            )


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` on a temp file beside ``path``, fsync, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: Any) -> None:
    import orjson

    # orjson, not json: the manifest lists every file, and json's indenting encoder is pure Python.
    atomic_write(path, lambda h: h.write(orjson.dumps(document, option=orjson.OPT_INDENT_2)))


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    import orjson

    def write(handle: IO[bytes]) -> None:
        for start in range(0, len(records), 4096):
            handle.write(b"".join(orjson.dumps(r) + b"\n" for r in records[start : start + 4096]))

    atomic_write(path, write)


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record of a knowledge base JSONL file, in order."""
    import orjson

    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not a knowledge base record ({exc})") from exc
            if not isinstance(record, dict) or "id" not in record or "text" not in record:
                raise InputError(f"{path}:{number}: not a knowledge base record (no id/text)")
            yield record


def write_embeddings(path: Path, ids: list[str], vectors: npt.NDArray[np.float32]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dims = int(vectors.shape[1])
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), type=pa.float32())
    table = pa.table(
        {"id": pa.array(ids, type=pa.string()), "vector": pa.FixedSizeListArray.from_arrays(flat, dims)}
    )
    # Neither compression nor dictionaries: float32 vectors barely compress (3% with zstd) and
    # trying cost more than writing the file.
    atomic_write(path, lambda handle: pq.write_table(table, handle, compression="none", use_dictionary=False))


def read_embeddings(path: Path) -> tuple[list[str], npt.NDArray[np.float32]]:
    """``(ids, vectors)`` from an embeddings Parquet file; vectors as one C-contiguous float32 matrix."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        column = table.column("vector").combine_chunks()
        ids = table.column("id").to_pylist()
    except (OSError, KeyError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a knowledge base embeddings file ({exc})") from exc
    if not pa.types.is_fixed_size_list(column.type):
        raise InputError(f"{path}: 'vector' must be a fixed-size list column")
    dims = column.type.list_size
    values = column.flatten().to_numpy(zero_copy_only=False)
    vectors = np.ascontiguousarray(values, dtype=np.float32).reshape(len(ids), dims)
    return ids, vectors


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no knowledge base manifest at {path}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable knowledge base manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path}: not a knowledge base manifest of format {MANIFEST_FORMAT}")
    return manifest
