"""Folder layout of the stream write-ahead log, and the small file-system helpers it needs.

<root>/<dataset>/open/<host>-<pid>-<start>-<seq>.ndjson   segments being appended to
<root>/<dataset>/sealed/<same name>                       closed segments, waiting for a claim
<root>/<dataset>/flushing/<batch-id>/                     a claimed batch: segments + batch.json
<root>/<dataset>/rejected/<name>.ndjson                   broker messages that were not records
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from pathlib import Path

from lakegate.errors import StreamError

__all__ = [
    "FLUSHING",
    "OPEN",
    "REJECTED",
    "SEALED",
    "SEGMENT_SUFFIX",
    "dataset_dir",
    "fsync_dir",
    "host_name",
    "write_fully",
]

OPEN = "open"
SEALED = "sealed"
FLUSHING = "flushing"
REJECTED = "rejected"
SEGMENT_SUFFIX = ".ndjson"

_DATASET = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def dataset_dir(root: Path, dataset: str) -> Path:
    """``root/dataset``, after checking that the name is one safe folder name."""
    if not _DATASET.fullmatch(dataset) or ".." in dataset:
        raise StreamError(
            f"dataset {dataset!r}: not a valid stream name (letters, digits, '_', '-', '.'; max 128)",
            detail={"dataset": dataset},
        )
    return root / dataset


def host_name() -> str:
    """This machine's name, reduced to characters that are safe in a file name."""
    return _UNSAFE.sub("_", socket.gethostname())[:64] or "host"


def fsync_dir(folder: Path) -> None:
    """Make renames and new names in ``folder`` durable."""
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_fully(descriptor: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a write may be partial)."""
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]
