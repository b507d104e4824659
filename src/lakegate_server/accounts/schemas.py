from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from lakegate_server.accounts.models import Role


class TokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    role: Role = Role.VIEWER


class TokenOut(Schema):
    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreateOut(TokenOut):
    token: str = Field(..., description="The secret; shown only in this response.")


class TokenListOut(Schema):
    items: list[TokenOut]
