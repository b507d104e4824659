"""Quarantine: a file that cannot become part of a dataset is kept, never lost.

``quarantine/<id>/`` in the project's storage (``.lakegate/`` unless ``storage:`` names an
object store) holds the original bytes (under a sanitised name) and ``reason.json`` (what,
why, when, which dataset). Entry ids are sortable by time.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate.errors import NotFoundError
from lakegate.formats import safe_name

# The key helpers only: lakegate.storage's own package imports lakegate.lake (option defaults).
from lakegate.storage._keys import Area, join_key

if TYPE_CHECKING:
    from lakegate.storage import Storage

__all__ = ["QuarantineEntry", "drop_entry", "quarantine_file", "read_entry"]


@dataclass(frozen=True)
class QuarantineEntry:
    id: str
    dataset: str
    source: str
    file: str
    code: str
    reason: str
    sha256: str
    size: int
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _folder(entry_id: str) -> str:
    return join_key(Area.QUARANTINE, entry_id)


def quarantine_file(
    source: Path,
    *,
    storage: Storage,
    dataset: str,
    code: str,
    reason: str,
    sha256: str,
    move: bool,
    original_name: str | None = None,
) -> QuarantineEntry:
    """Keep ``source`` in the quarantine (moved when ``move``, else copied) with its reason.

    The file goes in first and ``reason.json`` last: an entry without its reason is an
    attempt that never finished (nothing lists it; its file is still there to find).
    """
    now = datetime.now(UTC)
    entry_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    name = safe_name(original_name or source.name, default="file")
    size = source.stat().st_size
    key = join_key(_folder(entry_id), name)
    if move:
        storage.move_file(key, source)
    else:
        storage.put_file(key, source, overwrite=False)
    entry = QuarantineEntry(
        id=entry_id,
        dataset=dataset,
        source=original_name or str(source),
        file=name,
        code=code,
        reason=reason,
        sha256=sha256,
        size=size,
        created_at=now.isoformat(),
    )
    reason_key = join_key(_folder(entry_id), "reason.json")
    storage.put_bytes(reason_key, json.dumps(entry.to_dict(), indent=2).encode(), overwrite=False)
    return entry


def read_entry(storage: Storage, entry_id: str) -> tuple[QuarantineEntry, str]:
    """The entry ``entry_id`` and the storage key of its kept file."""
    if safe_name(entry_id) != entry_id:
        raise NotFoundError(f"no quarantined file {entry_id!r}")
    try:
        data = json.loads(storage.get_bytes(join_key(_folder(entry_id), "reason.json")))
    except (NotFoundError, ValueError) as exc:
        raise NotFoundError(f"no quarantined file {entry_id!r}") from exc
    entry = QuarantineEntry(**data)
    return entry, join_key(_folder(entry_id), entry.file)


def drop_entry(storage: Storage, entry_id: str) -> None:
    """Forget a quarantine entry once its file is in the lake (its reason last, like it came)."""
    folder = _folder(entry_id)
    for info in storage.list_objects(folder):
        if not info.key.endswith("/reason.json"):
            storage.delete(info.key)
    storage.delete(join_key(folder, "reason.json"))
