"""Inbox: files dropped into ``.lakegate/inbox/<dataset>/`` become ``ingest`` runs.

A file is taken once it has not changed for ``settle_seconds`` (write big files under a
name starting with ``.`` or ending in ``.part``/``.tmp``, then rename). Taking a file is an
atomic rename into ``.lakegate/uploads/``, so two schedulers never ingest it twice.

Symbolic links are never followed: the claim skips them (and dataset folders that are links);
:func:`~lakegate_server.datasets.sweep.staging_sweep` lists them in the quarantine as refused,
along with staged files no run will take.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path

from lakegate.config import Settings
from lakegate_server.datasets.models import NAME_RE
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

__all__ = ["inbox_claim", "stage_upload_dir"]

log = logging.getLogger("lakegate.inbox")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload")


def stage_upload_dir(config: Settings) -> Path:
    """A fresh folder under ``.lakegate/uploads/`` for one staged file."""
    folder = config.paths.uploads / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def _ready(path: Path, now: float, settle: float) -> bool:
    if path.name.startswith(".") or path.name.endswith(_IGNORED_SUFFIXES) or not path.is_file():
        return False
    return now - path.stat().st_mtime >= settle


def inbox_claim(*, config: Settings, settle_seconds: float = 2.0) -> list[Run]:
    """Turn every settled file in ``inbox/<dataset>/`` into a queued ``ingest`` run."""

    inbox = config.paths.inbox
    now = time.time()
    runs: list[Run] = []
    if not inbox.is_dir():
        return runs
    for folder in sorted(p for p in inbox.iterdir() if not p.name.startswith(".")):
        if folder.is_symlink():
            log.warning("inbox folder is a symbolic link; not followed", extra={"folder": folder.name})
            continue
        if not folder.is_dir():
            continue
        if not re.match(NAME_RE, folder.name) or "\n" in folder.name:
            log.warning("inbox folder is not a valid dataset name; skipped", extra={"folder": folder.name})
            continue
        for path in sorted(folder.iterdir()):
            if path.is_symlink():
                continue  # never followed; staging_sweep lists it in the quarantine as refused
            if not _ready(path, now, settle_seconds):
                continue
            target = stage_upload_dir(config) / path.name
            try:
                path.rename(target)  # the claim: only one process can move it
            except FileNotFoundError:
                target.parent.rmdir()
                continue
            if target.is_symlink():
                # Swapped for a link between the look and the claim: no run reads it, and
                # staging_sweep refuses it like any link.
                continue
            runs.append(
                run_create(
                    kind="ingest",
                    params={"dataset": folder.name, "path": str(target), "original_name": path.name},
                    created_by="inbox",
                )
            )
            log.info("inbox file queued", extra={"dataset": folder.name, "file": path.name})
    return runs
