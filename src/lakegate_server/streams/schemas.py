from __future__ import annotations

from ninja import Schema


class StreamAcceptedOut(Schema):
    dataset: str
    accepted: int
