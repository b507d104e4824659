"""Knowledge-base search: each base is opened once per process and reopened when rebuilt."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.knowledge import KBPaths, KnowledgeBase
from lakegate_server.knowledge.models import KnowledgeBuild

__all__ = ["kb_builds", "kb_facets", "kb_list", "kb_search", "kb_search_within"]

_lock = threading.Lock()
_open: dict[Path, tuple[float, KnowledgeBase]] = {}


def _bases(config: Settings) -> dict[str, Path]:
    """Every knowledge base: those in ``knowledge_bases:``, then those the service built."""
    bases = {
        name: path for name in config.knowledge_bases if (path := config.knowledge_base(name)) is not None
    }
    for name, output in KnowledgeBuild.objects.order_by("name", "-id").values_list("name", "output"):
        bases.setdefault(name, Path(output))
    return bases


def _base(config: Settings, name: str | None) -> tuple[str, Path]:
    bases = _bases(config)
    if not bases:
        raise NotFoundError(
            "no knowledge base yet; add one under knowledge_bases: in lakegate.yaml or build one "
            "(POST /api/v1/kb)"
        )
    chosen = name or next(iter(bases))
    path = bases.get(chosen)
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
    return [{"name": name, "path": str(path)} for name, path in _bases(config).items()]


def kb_builds(*, name: str | None = None, limit: int = 20) -> list[KnowledgeBuild]:
    """The latest builds the service ran, newest first (of knowledge base ``name`` if given)."""
    builds = KnowledgeBuild.objects.all()
    if name is not None:
        builds = builds.filter(name=name)
    return list(builds[:limit])


def kb_facets(*, config: Settings, name: str) -> dict[str, Any]:
    """Knowledge base ``name``'s categories (label, terms, chunks) and folders (files each)."""
    chosen, path = _base(config, name)
    if not KBPaths.of(path).manifest.is_file():
        raise NotFoundError(f"knowledge base {chosen!r} is not built yet")
    base = _opened(path)
    folders: dict[str, int] = {}
    for file in base.manifest.get("files", {}):
        parts = Path(file).parts
        top = parts[0] if len(parts) > 1 else "."
        folders[top] = folders.get(top, 0) + 1
    return {
        "name": chosen,
        "chunks": len(base),
        "built_at": base.manifest.get("built_at"),
        "categories": [category.to_dict() for category in base.categories],
        "folders": [{"folder": folder, "files": files} for folder, files in sorted(folders.items())],
    }


def kb_search(
    *, config: Settings, q: str, k: int = 5, name: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The ``k`` chunks closest to ``q`` in knowledge base ``name`` (the first configured if None)."""
    chosen, path = _base(config, name)
    hits = _opened(path).search(q, k=k)
    return chosen, [{"rank": h.rank, "score": round(h.score, 6), **h.record} for h in hits]


def kb_search_within(
    *,
    config: Settings,
    q: str,
    name: str,
    k: int = 10,
    category: int | None = None,
    folder: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """``kb_search`` narrowed to one category and/or one top folder (the dashboard's facets):
    the best ``k`` hits among the 100 closest chunks."""
    chosen, hits = kb_search(config=config, q=q, k=100 if category is not None or folder else k, name=name)
    if category is not None:
        hits = [hit for hit in hits if hit.get("category") == category]
    if folder:
        hits = [hit for hit in hits if (hit.get("subfolders") or ["."])[0] == folder]
    return chosen, [{**hit, "rank": rank} for rank, hit in enumerate(hits[:k], start=1)]
