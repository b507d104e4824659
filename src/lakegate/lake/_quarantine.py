"""Quarantine: a file that cannot become part of a dataset is kept, never lost.

``<project>/.lakegate/quarantine/<id>/`` holds the original bytes (under a sanitised name)
and ``reason.json`` (what, why, when, which dataset). Entry ids are sortable by time.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakegate._atomic import write_bytes_atomic
from lakegate.errors import NotFoundError
from lakegate.formats import safe_name

__all__ = ["QuarantineEntry", "quarantine_file", "read_entry"]


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


def quarantine_file(
    source: Path,
    *,
    root: Path,
    dataset: str,
    code: str,
    reason: str,
    sha256: str,
    move: bool,
    original_name: str | None = None,
) -> QuarantineEntry:
    """Keep ``source`` in the quarantine (moved when ``move``, else copied) with its reason."""
    now = datetime.now(UTC)
    entry_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    folder = root / entry_id
    folder.mkdir(parents=True)
    name = safe_name(original_name or source.name, default="file")
    target = folder / name
    if move:
        shutil.move(source, target)
    else:
        shutil.copy2(source, target)
    entry = QuarantineEntry(
        id=entry_id,
        dataset=dataset,
        source=original_name or str(source),
        file=name,
        code=code,
        reason=reason,
        sha256=sha256,
        size=target.stat().st_size,
        created_at=now.isoformat(),
    )
    write_bytes_atomic(folder / "reason.json", json.dumps(entry.to_dict(), indent=2).encode())
    return entry


def read_entry(root: Path, entry_id: str) -> tuple[QuarantineEntry, Path]:
    """The entry ``entry_id`` and the path of its kept file."""
    if safe_name(entry_id) != entry_id:
        raise NotFoundError(f"no quarantined file {entry_id!r}")
    folder = root / entry_id
    try:
        data = json.loads((folder / "reason.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotFoundError(f"no quarantined file {entry_id!r}") from exc
    entry = QuarantineEntry(**data)
    return entry, folder / entry.file
