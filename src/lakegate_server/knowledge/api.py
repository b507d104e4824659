"""Knowledge-base endpoints: list, search, build (a run) and the builds' reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import errors
from lakegate_server.conf import project
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.knowledge.selectors import kb_builds, kb_list, kb_search
from lakegate_server.knowledge.services import kb_build_queue

router = Router()


class KbSearchOut(Schema):
    kb: str
    query: str
    hits: list[dict[str, Any]]


class KbListOut(Schema):
    items: list[dict[str, str]]


class KbBuildIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ...,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="The knowledge base: 1-64 of a-z, 0-9, '-', '_'.",
    )
    folder: str = Field(
        ...,
        min_length=1,
        max_length=1000,
        description="The folder of documents, relative to the project directory.",
    )
    embed: Literal["tfidf", "minilm"] = Field(
        "tfidf", description="tfidf (default) or minilm (the minilm extra)."
    )
    categories: int | None = Field(None, ge=1, le=100, description="Default: chosen by silhouette.")


class KbBuildOut(Schema):
    id: int
    name: str
    folder: str
    output: str
    embedder: str
    run: int | None
    created_by: str
    created_at: datetime
    report: dict[str, Any] = Field(
        ..., description="The build report; `drift` compares it with the last build."
    )


class KbBuildListOut(Schema):
    items: list[KbBuildOut]


@router.get("", response=KbListOut, summary="Knowledge bases (configured and built by the service)")
def kb_index(request: HttpRequest) -> KbListOut:
    authorize(request, Role.VIEWER)
    return KbListOut(items=kb_list(config=project()))


@router.post(
    "",
    response={202: RunOut, **errors(404)},
    summary="Build or rebuild a knowledge base (a kb_build run)",
    description="The folder must lie inside the project directory (HTTP 422 otherwise, 404 when missing); "
    "a rebuild reads only changed files and its report compares the corpus with the last build.",
)
def kb_build_endpoint(request: HttpRequest, payload: KbBuildIn) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = kb_build_queue(config=project(), params=payload.model_dump(), created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))


@router.get("/builds", response=KbBuildListOut, summary="Knowledge-base builds, newest first")
def kb_builds_endpoint(
    request: HttpRequest,
    kb: str | None = Query(None, description="Only this knowledge base's builds."),
    limit: int = Query(20, ge=1, le=200),
) -> KbBuildListOut:
    authorize(request, Role.VIEWER)
    return KbBuildListOut(items=[KbBuildOut(**build.to_dict()) for build in kb_builds(name=kb, limit=limit)])


@router.get(
    "/search", response={200: KbSearchOut, **errors(404)}, summary="Semantic search over a knowledge base"
)
def kb_search_endpoint(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=2000),
    k: int = Query(5, ge=1, le=100),
    kb: str | None = Query(None, description="Knowledge base name (default: the first configured)."),
) -> KbSearchOut:
    authorize(request, Role.VIEWER)
    name, hits = kb_search(config=project(), q=q, k=k, name=kb)
    return KbSearchOut(kb=name, query=q, hits=hits)
