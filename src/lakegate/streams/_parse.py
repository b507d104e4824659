"""Pushed bodies -> validated NDJSON lines (one JSON object per line), fast.

A body is a JSON array of objects or NDJSON. Validation parses every record with
orjson; an array is re-serialised compactly (one object per line), an NDJSON body is
kept as sent (its lines are already one object each: only blank lines, surrounding
whitespace and ``\\r`` are removed), which saves the re-serialisation on the hot path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from lakegate.errors import StreamError

__all__ = ["ParsedRecords", "parse_records"]

_NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
_BOM = b"\xef\xbb\xbf"
_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_POSITION = re.compile(r": line \d+ column (\d+) \(char \d+\)$")


@dataclass(frozen=True, slots=True)
class ParsedRecords:
    """Validated records as NDJSON: ``lines`` holds ``count`` objects, each line ending in ``\\n``."""

    lines: bytes
    count: int


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _too_many(count: int, max_records: int) -> StreamError:
    return StreamError(
        f"body has {count} records, over the limit of {max_records} per request",
        detail={"records": count, "max_records": max_records},
    )


def _parse_array(body: bytes, max_records: int) -> ParsedRecords:
    try:
        records = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise StreamError(f"invalid JSON: {exc}", detail={"position": exc.pos}) from exc
    if not isinstance(records, list):  # "[1] x" cannot get here, but keep the type honest
        raise StreamError(f"expected a JSON array of objects, got {_kind(records)}")
    if not records:
        raise StreamError("no records: the JSON array is empty")
    if len(records) > max_records:
        raise _too_many(len(records), max_records)
    bad = next((index for index, record in enumerate(records) if type(record) is not dict), None)
    if bad is not None:
        raise StreamError(
            f"record {bad}: expected a JSON object, got {_kind(records[bad])}", detail={"record": bad}
        )
    dumps = orjson.dumps
    return ParsedRecords(lines=b"\n".join([dumps(record) for record in records]) + b"\n", count=len(records))


def _parse_ndjson(body: bytes, max_records: int) -> ParsedRecords:
    # Fast path: a body that is already clean NDJSON is validated and kept as sent.
    clean = body.endswith(b"\n") and not body.startswith(b"\n") and b"\r" not in body and b"\n\n" not in body
    if clean:
        lines = body.split(b"\n")
        lines.pop()  # the empty string after the final newline
        if len(lines) > max_records:
            raise _too_many(len(lines), max_records)
        try:
            _check_objects(lines, None)
        except StreamError:
            pass  # maybe whitespace-only lines: the slow path below tells
        else:
            return ParsedRecords(lines=body, count=len(lines))
    pairs = [(number, line.strip()) for number, line in enumerate(body.split(b"\n"), start=1)]
    numbered = [(number, line) for number, line in pairs if line]
    if not numbered:
        raise StreamError("no records: the body has only blank lines")
    if len(numbered) > max_records:
        raise _too_many(len(numbered), max_records)
    lines = [line for _, line in numbered]
    _check_objects(lines, [number for number, _ in numbered])
    return ParsedRecords(lines=b"\n".join(lines) + b"\n", count=len(lines))


def _check_objects(lines: list[bytes], numbers: list[int] | None) -> None:
    loads = orjson.loads
    try:
        values = [loads(line) for line in lines]
    except orjson.JSONDecodeError:
        index, reason = _first_invalid(lines)
        line_no = numbers[index] if numbers else index + 1
        raise StreamError(f"line {line_no}: invalid JSON: {reason}", detail={"line": line_no}) from None
    bad = next((index for index, value in enumerate(values) if type(value) is not dict), None)
    if bad is not None:
        line_no = numbers[bad] if numbers else bad + 1
        raise StreamError(
            f"line {line_no}: expected a JSON object, got {_kind(values[bad])}", detail={"line": line_no}
        )


def _first_invalid(lines: list[bytes]) -> tuple[int, str]:
    for index, line in enumerate(lines):
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            # orjson counts lines and columns within this one line: keep only the column.
            return index, _POSITION.sub(r" at column \1", str(exc))
    return 0, "unknown error"  # pragma: no cover - only called after a failure


def parse_records(body: bytes, *, content_type: str | None, max_records: int = 100_000) -> ParsedRecords:
    """Validate a JSON array of objects or an NDJSON body; return its records as NDJSON.

    ``application/json`` (or no type) is told apart from NDJSON by the first non-space
    byte (``[`` = array); an NDJSON type is always read line by line. Errors name the
    0-based record index (arrays) or 1-based line number (NDJSON) and the reason.
    """
    body = body.removeprefix(_BOM)
    first = _NON_SPACE.search(body)
    if first is None:
        raise StreamError("empty body: send a JSON array of objects or NDJSON (one object per line)")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in _NDJSON_TYPES and first.group() == b"[":
        return _parse_array(body, max_records)
    return _parse_ndjson(body, max_records)
