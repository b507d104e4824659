"""Keys in the storage: ``/``-separated, relative to its root, never escaping it.

The areas keep today's layout of ``.lakegate/``, so the embedded default (a local folder)
holds its files exactly where it always did.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from lakegate.errors import InputError

__all__ = ["Area", "join_key", "unique_key"]


class Area(StrEnum):
    """Where each kind of shared state lives below the storage root."""

    MODELS = "artifacts/models"
    RUN_ARTIFACTS = "artifacts/runs"
    REPORTS = "artifacts/reports"
    SAMPLES = "artifacts/datasets"
    PREDICTIONS = "artifacts/predictions"
    KNOWLEDGE = "artifacts/knowledge"
    UPLOADS = "uploads"
    QUARANTINE = "quarantine"
    RUN_LOGS = "logs/runs"


def join_key(*parts: str) -> str:
    """The key of ``parts`` joined by ``/`` (each part may hold ``/`` itself).

    ``InputError`` for an empty segment, ``.`` or ``..``, a backslash or a control character:
    a key built from a user's file name must stay below the storage root.
    """
    segments: list[str] = []
    for part in parts:
        for segment in str(part).split("/"):
            if segment in ("", ".", "..") or "\\" in segment or any(ord(ch) < 32 for ch in segment):
                joined = "/".join(str(p) for p in parts)
                raise InputError(
                    f"storage key {joined!r}: segment {segment!r} is not allowed "
                    "(empty, '.', '..', a backslash or a control character)"
                )
            segments.append(segment)
    if not segments:
        raise InputError("storage key is empty")
    return "/".join(segments)


def unique_key(*parts: str) -> str:
    """A fresh key below ``parts`` (a random 32-hex segment), never written before.

    The write-then-commit pattern: write an attempt's files under a unique key, then commit
    by a database row pointing at it. A key no row points at is an abandoned attempt (its
    worker died): readers never see it, and it can be deleted.
    """
    return join_key(*parts, uuid.uuid4().hex)
