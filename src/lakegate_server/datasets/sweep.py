"""Nothing stays in the staging folders unlisted: refused links and stranded uploads.

:func:`staging_sweep` runs in every scheduler pass, after the inbox claim:

- a symbolic link in ``.lakegate/inbox/<dataset>/`` (the claim never follows one) is removed
  and listed in the quarantine with the reason ``symlink_refused``. What it points to is never
  read: the kept file is a note naming the link (``<name>.symlink.txt``), so a retry reads
  that note and fails on its format instead of reading outside the project;
- a staged file (``uploads/<id>/<name>`` in the storage, and this host's ``.lakegate/uploads/``)
  that no queued or running ingest run refers to (its run was cancelled, or the server
  stopped between staging the file and queueing the run) is moved into the quarantine once
  it is ``STALE_UPLOAD_SECONDS`` old, with the reason ``upload_stranded`` naming the run;
  links found there are refused the same way.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from lakegate.config import Settings
from lakegate.errors import InputError, LakegateError
from lakegate.formats import safe_name
from lakegate.storage import Area, open_storage
from lakegate_server.datasets.inbox import stage_upload_dir
from lakegate_server.datasets.models import QuarantinedFile
from lakegate_server.datasets.services import quarantine_add, scratch_dir
from lakegate_server.jobs.models import FINISHED, Run

__all__ = [
    "STALE_UPLOAD_SECONDS",
    "StrandedUploadError",
    "SymlinkRefusedError",
    "inbox_links_refuse",
    "staging_sweep",
    "uploads_sweep",
]

log = logging.getLogger("lakegate.inbox")

# A staged folder no queued or running run refers to is swept after this long: the window
# between staging a file and committing its run is milliseconds, and a run waiting for a
# retry is still queued (so still referring to it).
STALE_UPLOAD_SECONDS: Final = 600.0


class SymlinkRefusedError(InputError):
    code = "symlink_refused"


class StrandedUploadError(LakegateError):
    code = "upload_stranded"


def _refuse_link(
    config: Settings, link: Path, *, dataset: str, label: str, created_by: str
) -> QuarantinedFile:
    """List a symbolic link in the quarantine, never reading what it points to, and remove it.

    The kept file is a note (``<name>.symlink.txt``): a retry reads that note, not the target,
    and fails on its unknown format. The link's target is named in the log and the note only,
    not in the reason that API viewers see.
    """
    target = link.readlink()
    note_dir = stage_upload_dir(config)
    note = note_dir / f"{safe_name(label, default='link')}.symlink.txt"
    note.write_text(
        f"{label} was a symbolic link to {target}, found {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC "
        f"in the inbox of dataset {dataset!r}.\nlakegate never follows links: copy the file itself "
        "into the inbox instead.\n",
        encoding="utf-8",
    )
    link.unlink()  # the link only: what it points to is untouched
    error = SymlinkRefusedError(
        f"{label} is a symbolic link; lakegate never follows links out of the inbox "
        "(copy the file itself into the inbox)",
        detail={"file": label},
    )
    try:
        record = quarantine_add(
            config=config,
            dataset=dataset,
            source=note,
            error=error,
            original_name=note.name,
            move=True,
            created_by=created_by,
        )
    finally:
        with contextlib.suppress(OSError):
            note_dir.rmdir()
    log.warning("inbox symlink refused", extra={"dataset": dataset, "file": label, "target": target})
    return record


def inbox_links_refuse(*, config: Settings, settle_seconds: float = 2.0) -> list[QuarantinedFile]:
    """Refuse every symbolic link in ``inbox/<dataset>/`` (settled, not hidden)."""
    inbox = config.paths.inbox
    if not inbox.is_dir():
        return []
    now = time.time()
    kept = []
    for folder in sorted(inbox.iterdir()):
        if folder.name.startswith(".") or folder.is_symlink() or not folder.is_dir():
            continue  # a linked dataset folder is skipped by the claim (and logged there)
        for path in sorted(folder.iterdir()):
            settled = now - path.lstat().st_mtime >= settle_seconds
            if path.is_symlink() and settled and not path.name.startswith("."):
                kept.append(
                    _refuse_link(config, path, dataset=folder.name, label=path.name, created_by="inbox")
                )
    return kept


def _live_folders() -> set[str]:
    """Staged folders (the ``<id>`` of ``uploads/<id>/<name>``) a queued or running ingest run refers to."""
    params = Run.objects.filter(kind="ingest").exclude(status__in=FINISHED).values_list("params", flat=True)
    live = set()
    for p in params:
        if isinstance(p, dict):
            if p.get("key"):
                live.add(str(p["key"]).split("/")[1] if str(p["key"]).count("/") == 2 else "")
            if p.get("path"):
                live.add(Path(str(p["path"])).parent.name)
    return live


def _stranded_reason(key: str, path: Path | None = None) -> tuple[str, str, str | None]:
    """(dataset, why the file is stranded, its original name) from the last run that named it."""
    runs = Run.objects.filter(kind="ingest")
    run = runs.filter(params__key=key).order_by("-pk").first()
    if run is None and path is not None:
        run = runs.filter(params__path=str(path)).order_by("-pk").first()
    if run is None:
        return "", "staged but no ingest run took it (the server stopped before queueing one)", None
    params = run.params if isinstance(run.params, dict) else {}
    why = f"ingest run {run.pk} ended {run.status} without taking it"
    if run.last_error:
        why += f" ({run.last_error})"
    return str(params.get("dataset", "")), why, params.get("original_name")


def _keep_stranded(config: Settings, path: Path, key: str) -> QuarantinedFile:
    dataset, why, original = _stranded_reason(key, path)
    label = original or path.name
    error = StrandedUploadError(f"{label}: {why}; kept here instead", detail={"file": label})
    return quarantine_add(
        config=config,
        dataset=dataset,
        source=path,
        error=error,
        original_name=label,
        move=True,
        created_by="sweep",
    )


def _local_sweep(config: Settings, live: set[str], older_than: float) -> list[QuarantinedFile]:
    """The staging folder on this host: claims on their way into the storage, links, and (on the
    default local storage) every staged file."""
    root = config.paths.uploads
    if not root.is_dir():
        return []
    now = time.time()
    kept: list[QuarantinedFile] = []
    for folder in sorted(root.iterdir()):
        if folder.name in live or now - folder.lstat().st_mtime < older_than:
            continue
        # lakegate stages one folder per file; anything else put there is swept the same way.
        staged = sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else [folder]
        for path in staged:
            key = f"{Area.UPLOADS}/{path.relative_to(root).as_posix()}"
            if path.is_symlink():
                dataset, _, original = _stranded_reason(key, path)
                label = original or path.name
                kept.append(_refuse_link(config, path, dataset=dataset, label=label, created_by="sweep"))
            elif path.is_file():
                kept.append(_keep_stranded(config, path, key))
            else:
                log.warning("unexpected folder in a staged upload; left alone", extra={"entry": str(path)})
        with contextlib.suppress(OSError):
            folder.rmdir()
    return kept


def _storage_sweep(config: Settings, live: set[str], older_than: float) -> list[QuarantinedFile]:
    """The storage's staging area when it is not this host's folder (an object store)."""
    storage = open_storage(config)
    local = storage.local_path(Area.UPLOADS)
    if local is not None and local.resolve() == config.paths.uploads.resolve():
        return []  # the same folder: _local_sweep went through it
    now = datetime.now(UTC)
    kept: list[QuarantinedFile] = []
    for info in storage.list_objects(Area.UPLOADS):
        parts = info.key.split("/")
        folder = parts[1] if len(parts) > 2 else ""  # uploads/<id>/<name>
        if folder in live or (now - info.last_modified).total_seconds() < older_than:
            continue
        scratch = scratch_dir(config, "sweep-")
        try:
            path = storage.download(info.key, scratch / parts[-1])
            kept.append(_keep_stranded(config, path, info.key))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        storage.delete(info.key)
    return kept


def uploads_sweep(*, config: Settings, older_than: float = STALE_UPLOAD_SECONDS) -> list[QuarantinedFile]:
    """Move staged files no run will take into the quarantine; remove their empty folders.

    Staged files live in the storage (``uploads/<id>/<name>``; the project's
    ``.lakegate/uploads/`` by default); inbox claims pass through this host's
    ``.lakegate/uploads/`` on their way there. Both are swept. A file is left alone while a
    queued or running ingest run refers to it, and while it is younger than ``older_than``
    seconds. Links are listed as refused, never followed.
    """
    live = _live_folders()
    return [*_local_sweep(config, live, older_than), *_storage_sweep(config, live, older_than)]


def staging_sweep(*, config: Settings) -> list[QuarantinedFile]:
    """The scheduler's pass: refused inbox links, then stranded uploads."""
    return [*inbox_links_refuse(config=config), *uploads_sweep(config=config)]
