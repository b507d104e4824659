"""Knowledge-base endpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import errors
from lakegate_server.conf import project
from lakegate_server.knowledge.selectors import kb_list, kb_search

router = Router()


class KbSearchOut(Schema):
    kb: str
    query: str
    hits: list[dict[str, Any]]


class KbListOut(Schema):
    items: list[dict[str, str]]


@router.get("", response=KbListOut, summary="Configured knowledge bases")
def kb_index(request: HttpRequest) -> KbListOut:
    authorize(request, Role.VIEWER)
    return KbListOut(items=kb_list(config=project()))


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
