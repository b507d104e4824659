"""Knowledge-base search: each base is opened once per process and reopened when rebuilt."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.knowledge import KBPaths, KnowledgeBase

__all__ = ["kb_list", "kb_search"]

_lock = threading.Lock()
_open: dict[Path, tuple[float, KnowledgeBase]] = {}


def _base(config: Settings, name: str | None) -> tuple[str, Path]:
    bases = config.knowledge_bases
    if not bases:
        raise NotFoundError(
            "no knowledge base is configured; add one under knowledge_bases: in lakegate.yaml"
        )
    chosen = name or next(iter(bases))
    path = config.knowledge_base(chosen)
    if path is None:
        raise NotFoundError(f"no knowledge base named {chosen!r}; known: {', '.join(bases)}")
    return chosen, path


def _opened(path: Path) -> KnowledgeBase:
    """The base at ``path``, loaded once; a rebuild (newer manifest) is picked up on the next call."""
    manifest = KBPaths.of(path).manifest
    stamp = manifest.stat().st_mtime if manifest.is_file() else -1.0
    with _lock:
        cached = _open.get(path)
        if cached is None or cached[0] != stamp:
            _open[path] = (stamp, KnowledgeBase.open(path))
        return _open[path][1]


def kb_list(*, config: Settings) -> list[dict[str, Any]]:
    return [{"name": name, "path": str(config.knowledge_base(name))} for name in config.knowledge_bases]


def kb_search(
    *, config: Settings, q: str, k: int = 5, name: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The ``k`` chunks closest to ``q`` in knowledge base ``name`` (the first configured if None)."""
    chosen, path = _base(config, name)
    hits = _opened(path).search(q, k=k)
    return chosen, [{"rank": h.rank, "score": round(h.score, 6), **h.record} for h in hits]
