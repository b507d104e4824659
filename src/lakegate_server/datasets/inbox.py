"""Inbox: files dropped into ``.lakegate/inbox/<dataset>/`` become ``ingest`` runs.

A file is taken once it has not changed for ``settle_seconds`` (write big files under a
name starting with ``.`` or ending in ``.part``/``.tmp``, then rename). Taking a file is an
atomic rename into ``.lakegate/uploads/``, so two schedulers never ingest it twice; the file
then goes into the storage's staging area (``uploads/<id>/<name>``, :func:`stage_file`: a
rename on the default local storage, an upload to an object store) and its run names that
key, so a worker on any host reads it. The inbox is a folder on the scheduler's host: a
single-host convenience. Hosts that share no disk feed files through the upload API or an
``s3`` source.

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
from lakegate.errors import LakegateError
from lakegate.formats import safe_name
from lakegate.storage import Area, join_key, open_storage
from lakegate_server.datasets.models import NAME_RE
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

__all__ = ["inbox_claim", "is_upload_key", "stage_file", "stage_upload_dir", "upload_key"]

log = logging.getLogger("lakegate.inbox")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload")


def stage_upload_dir(config: Settings) -> Path:
    """A fresh folder under ``.lakegate/uploads/`` (on this host) for one file on its way in."""
    folder = config.paths.uploads / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def upload_key(name: str, folder: str | None = None) -> str:
    """The storage key ``uploads/<folder>/<name>`` of one staged file (a fresh folder by default)."""
    return join_key(Area.UPLOADS, folder or uuid.uuid4().hex, safe_name(name, default="upload"))


def is_upload_key(key: str) -> bool:
    """Whether ``key`` is a staged file's key (``uploads/<folder>/<name>``, nothing else)."""
    try:
        parts = join_key(key).split("/")
    except LakegateError:
        return False
    return len(parts) == 3 and parts[0] == Area.UPLOADS.value


def stage_file(config: Settings, path: Path, name: str) -> str:
    """Move the local file ``path`` into the storage's staging area; return its key.

    A file already in place (a claim renamed it into ``.lakegate/uploads/<id>/`` and the
    storage is the project's own folder) stays where it is. On an object store the file is
    uploaded, then removed here.
    """
    uploads = config.paths.uploads.resolve()
    resolved = path.resolve()
    folder = resolved.parent.name if resolved.parent.parent == uploads else None
    key = upload_key(name, folder)
    open_storage(config).move_file(key, path)
    if folder is not None and path.parent.is_dir() and not any(path.parent.iterdir()):
        path.parent.rmdir()
    return key


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
            try:
                key = stage_file(config, target, path.name)
            except LakegateError as exc:
                # The storage did not take it (an outage): back into the inbox, claimed again later.
                target.rename(path)
                target.parent.rmdir()
                log.warning(
                    "inbox file left for later: the storage did not take it",
                    extra={"dataset": folder.name, "file": path.name, "error": exc.message},
                )
                continue
            runs.append(
                run_create(
                    kind="ingest",
                    params={"dataset": folder.name, "key": key, "original_name": path.name},
                    created_by="inbox",
                )
            )
            log.info("inbox file queued", extra={"dataset": folder.name, "file": path.name})
    return runs
