"""What the broker consumers share: stats, and messages -> records or rejections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakegate.errors import StreamError
from lakegate.streams._parse import ParsedRecords, parse_records

__all__ = ["ConsumeStats", "MessageBatch"]


@dataclass
class ConsumeStats:
    """What a consumer did: messages read (and acked), records logged, messages rejected."""

    messages: int = 0
    records: int = 0
    rejected: int = 0
    seconds: float = 0.0


@dataclass
class MessageBatch:
    """Messages collected for one log append: valid NDJSON chunks and rejected rows."""

    source: str
    chunks: list[bytes] = field(default_factory=list)
    records: int = 0
    messages: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def add(self, message_id: str, payload: bytes) -> None:
        """Validate one message's payload (a JSON object, an array of them, or NDJSON)."""
        self.messages += 1
        try:
            parsed = parse_records(payload, content_type=None)
        except StreamError as exc:
            self.reject(message_id, exc.message, payload)
            return
        self.chunks.append(parsed.lines)
        self.records += parsed.count

    def reject(self, message_id: str, reason: str, payload: Any) -> None:
        """Keep an invalid message with the reason (it is acked, so it must not be lost)."""
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", errors="replace")
        self.rejected.append({"source": self.source, "id": message_id, "reason": reason, "payload": payload})

    def parsed(self) -> ParsedRecords:
        """The valid records of the batch as one append."""
        return ParsedRecords(lines=b"".join(self.chunks), count=self.records)
