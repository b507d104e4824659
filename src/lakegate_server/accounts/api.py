"""Token endpoints (admin role)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.accounts.schemas import TokenCreateIn, TokenCreateOut, TokenListOut, TokenOut
from lakegate_server.accounts.selectors import token_list
from lakegate_server.accounts.services import token_create, token_revoke
from lakegate_server.api_errors import PositiveInt, errors

router = Router()


@router.get("", response=TokenListOut, summary="List live tokens")
def tokens_list(request: HttpRequest) -> TokenListOut:
    authorize(request, Role.ADMIN)
    return TokenListOut(items=[TokenOut.model_validate(t, from_attributes=True) for t in token_list()])


@router.post("", response={201: TokenCreateOut}, summary="Create a token (the secret is shown once)")
def tokens_create(request: HttpRequest, payload: TokenCreateIn) -> Status[TokenCreateOut]:
    authorize(request, Role.ADMIN)
    issued = token_create(name=payload.name, role=payload.role)
    out = TokenOut.model_validate(issued.token, from_attributes=True)
    return Status(201, TokenCreateOut(**out.model_dump(), token=issued.raw))


@router.delete("/{int:token_id}", response={200: TokenOut, **errors(404)}, summary="Revoke a token")
def tokens_revoke(request: HttpRequest, token_id: PositiveInt) -> TokenOut:
    authorize(request, Role.ADMIN)
    return TokenOut.model_validate(token_revoke(token_id=token_id), from_attributes=True)
