"""Folders (a model artifact, a knowledge base) in the storage: files first, manifest last.

An object store has no atomic folder rename, so a folder is committed in two steps:

1. :func:`upload_folder` puts every file below a prefix (a fresh one per attempt, see
   :func:`lakegate.storage.unique_key`), then the manifest ``.lakegate-manifest.json`` with
   each file's size and SHA-256, create-only and last. A folder without its manifest is an
   unfinished attempt (a worker died mid-upload) and :func:`read_manifest` says it is not there.
2. The caller commits by a database row pointing at the prefix. Readers follow rows only.

:func:`download_folder` checks every file against the manifest, so a folder that was
tampered with or half-overwritten is an error, not a model loaded from mixed files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from lakegate.errors import ConflictError, InputError, LakegateError, NotFoundError
from lakegate.storage._keys import join_key

if TYPE_CHECKING:
    from lakegate.storage._store import Storage

__all__ = ["MANIFEST", "FolderFile", "FolderManifest", "download_folder", "read_manifest", "upload_folder"]

MANIFEST: Final = ".lakegate-manifest.json"
_FORMAT: Final = "lakegate-folder/1"


@dataclass(frozen=True)
class FolderFile:
    path: str  # relative to the folder, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class FolderManifest:
    """A committed folder: its prefix and the files it holds."""

    prefix: str
    files: tuple[FolderFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.files)

    def to_json(self) -> bytes:
        files = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files]
        return json.dumps({"format": _FORMAT, "files": files}, indent=1).encode()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def upload_folder(storage: Storage, folder: Path, prefix: str) -> FolderManifest:
    """Upload every file below ``folder`` to ``prefix``, then its manifest (the commit point).

    ``ConflictError`` when ``prefix`` already holds a committed folder: a committed folder is
    never written into. Symbolic links are refused (``InputError``): a folder is its files.
    """
    prefix = join_key(prefix)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    manifest_key = f"{prefix}/{MANIFEST}"
    if storage.exists(manifest_key):
        raise ConflictError(f"{storage.url(prefix)}: a folder is already committed there")
    files: list[FolderFile] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise InputError(f"{path}: a symbolic link; a stored folder holds plain files only")
        if not path.is_file():
            continue
        if relative == MANIFEST:
            raise InputError(f"{path}: {MANIFEST} is reserved for the folder's manifest")
        files.append(FolderFile(relative, path.stat().st_size, _sha256(path)))
        storage.put_file(join_key(prefix, relative), path)
    manifest = FolderManifest(prefix, tuple(files))
    storage.put_bytes(manifest_key, manifest.to_json(), overwrite=False)
    return manifest


def read_manifest(storage: Storage, prefix: str) -> FolderManifest:
    """The manifest of the folder committed at ``prefix``.

    ``NotFoundError`` when there is none: never written, or an attempt that did not finish.
    """
    prefix = join_key(prefix)
    try:
        raw = storage.get_bytes(f"{prefix}/{MANIFEST}")
    except NotFoundError:
        raise NotFoundError(
            f"{storage.url(prefix)}: no committed folder there (never written, or an unfinished upload)",
            detail={"key": prefix},
        ) from None
    try:
        data = json.loads(raw)
        if data.get("format") != _FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        files = tuple(FolderFile(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LakegateError(f"{storage.url(prefix)}/{MANIFEST}: not a folder manifest ({exc})") from exc
    return FolderManifest(prefix, files)


def download_folder(storage: Storage, prefix: str, dest: Path) -> FolderManifest:
    """Copy the folder committed at ``prefix`` into ``dest``, checking each file's size and hash."""
    manifest = read_manifest(storage, prefix)
    for item in manifest.files:
        target = storage.download(join_key(manifest.prefix, item.path), dest / item.path)
        size, digest = target.stat().st_size, _sha256(target)
        if (size, digest) != (item.size, item.sha256):
            raise LakegateError(
                f"{storage.url(manifest.prefix)}/{item.path}: {size} bytes with SHA-256 {digest[:12]}..., "
                f"the manifest says {item.size} bytes, {item.sha256[:12]}...; the folder was changed "
                "after it was committed"
            )
    return manifest
