"""Knowledge-base builds in the service: queue one as a run, build, record the report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lakegate.config import Settings
from lakegate.errors import InputError, NotFoundError
from lakegate_server.jobs.services import run_create
from lakegate_server.knowledge.models import KnowledgeBuild
from lakegate_server.knowledge.shapes import BuildReportDict

if TYPE_CHECKING:
    from lakegate_server.jobs.models import Run

__all__ = ["kb_build", "kb_build_queue", "kb_folder", "kb_output"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"knowledge base name {name!r}: use 1-64 lower-case letters, digits, '-' or '_'",
            detail={"field": "name", "reason": "invalid_name"},
        )
    return name


def kb_folder(*, config: Settings, folder: str) -> Path:
    """The source folder ``folder`` (relative to the project), refused outside the project.

    The service reads only what the project holds: an absolute path, ``..`` or a symbolic
    link leading out of the project directory is refused, so an editor cannot index the
    host's files.
    """
    root = config.project_dir.resolve()
    candidate = Path(folder)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise InputError(
            f"folder {folder!r}: give a folder inside the project, relative to it",
            detail={"field": "folder", "reason": "outside_project"},
        )
    resolved = (root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise InputError(
            f"folder {folder!r} leads outside the project",
            detail={"field": "folder", "reason": "outside_project"},
        )
    if (
        resolved == root
        or resolved == config.paths.state.resolve()
        or config.paths.state.resolve() in resolved.parents
    ):
        raise InputError(
            f"folder {folder!r}: index a folder of documents, not the project or its state",
            detail={"field": "folder", "reason": "outside_project"},
        )
    if not resolved.is_dir():
        raise NotFoundError(f"folder not found in the project: {folder}")
    return resolved


def kb_output(*, config: Settings, name: str) -> Path:
    """Where knowledge base ``name`` lives: its ``knowledge_bases:`` entry, else ``.lakegate/kb/<name>/``."""
    configured = config.knowledge_base(_check_name(name))
    return configured if configured is not None else config.paths.state / "kb" / name / f"{name}.jsonl"


def kb_build_queue(*, config: Settings, params: dict[str, Any], created_by: str) -> Run:
    """Queue a ``kb_build`` run after checking its name and folder (HTTP 4xx before queueing)."""
    kb_output(config=config, name=str(params.get("name", "")))
    kb_folder(config=config, folder=str(params.get("folder", "")))
    return run_create(kind="kb_build", params=params, created_by=created_by)


def kb_build(
    *,
    config: Settings,
    name: str,
    folder: str,
    embed: str = "tfidf",
    categories: int | None = None,
    run_id: int | None = None,
    created_by: str = "",
    progress: Any = None,
) -> KnowledgeBuild:
    """Build (or rebuild, incrementally) knowledge base ``name`` from ``folder``; record it."""
    from lakegate.knowledge import build_kb

    source = kb_folder(config=config, folder=folder)
    output = kb_output(config=config, name=name)
    report = build_kb(source, output, embed=embed, categories=categories, progress=progress)
    return KnowledgeBuild.objects.create(
        name=name,
        folder=folder,
        output=str(output),
        embedder=report.embedder,
        run_id=run_id,
        report=cast("BuildReportDict", report.to_dict()),
        created_by=created_by,
    )
