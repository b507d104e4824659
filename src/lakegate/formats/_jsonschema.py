"""The schema of every record of a JSON lines file, from one pass over all of it.

The fast path types a file from a sample (see ``json``); when a record does not fit the
sampled schema (a key the sample never saw, a value of another type) this pass reads
every line and unions what it sees, so no key and no value is lost:

- a key missing or ``null`` in some records is nullable; ``int`` and ``float`` give
  ``float`` (exact for integers up to 2**53; a larger one makes the key text);
  objects merge key by key; arrays merge their elements;
- any other mix (a number and a string, an object and a number, an array of objects and
  numbers, an integer past 64 bits) is *text*: polars reads the value as its JSON text
  (``12``, ``"x"`` -> ``x``, ``{"a": 1}``), named in a warning.

It parses with orjson (~1 µs per short line) in Python, so it costs a few seconds per
million lines: it runs only for files the sample did not describe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate.errors import ReaderError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FullSchema", "scan_schema", "without_surrogates"]

_INT64: Final = (-(2**63), 2**63 - 1)
_EXACT_IN_FLOAT: Final = 2**53
_TEXT: Final = "text"


@dataclass
class _Node:
    """What the values at one key path have been so far."""

    kind: str = "null"  # null, bool, int, float, str, text, struct, list
    big: bool = False  # an integer past 2**53 was seen: a float would round it
    fields: dict[str, _Node] = field(default_factory=dict)
    item: _Node | None = None


@dataclass(frozen=True)
class FullSchema:
    schema: pl.Schema
    text_paths: tuple[str, ...]
    """Dotted key paths whose values are of several JSON types (read as text)."""
    unpaired: int = 0
    """Lines holding a string with an unpaired UTF-16 surrogate (``"\\ud800"``), not text."""


def scan_schema(path: Path, source: Path, *, line_numbers: bool) -> FullSchema:
    """Union the types of every record of ``source``; ``ReaderError`` names a bad line."""
    import orjson

    root = _Node(kind="struct")
    conflicts: set[str] = set()
    unpaired = 0
    number = 0
    try:
        with source.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    record = _slow_loads(path, number if line_numbers else None, line)
                    unpaired += _has_surrogate(record)
                if not isinstance(record, dict):
                    where = f"line {number}: " if line_numbers else ""
                    raise ReaderError(str(path), f"{where}expected a JSON object per line")
                _merge(root, record, "", conflicts)
    except RecursionError as exc:
        where = f"line {number}: " if line_numbers else ""
        raise ReaderError(str(path), f"{where}JSON nested too deeply to read") from exc
    return FullSchema(schema=_schema(root), text_paths=tuple(sorted(conflicts)), unpaired=unpaired)


def without_surrogates(source: Path, target: Path) -> None:
    """Copy ``source`` with every unpaired surrogate in its strings replaced by U+FFFD.

    polars would read ``"\\ud800"`` as a NUL character, silently; this makes it text.
    """
    import orjson

    with source.open("rb") as lines, target.open("wb") as out:
        for line in lines:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                record = json.loads(line) if line.strip() else None
                if record is not None and _has_surrogate(record):
                    line = orjson.dumps(_replaced(record)) + b"\n"  # noqa: PLW2901 - the cleaned line
            out.write(line)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _replaced(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replaced(k): _replaced(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v) for v in value]
    return value


def _slow_loads(path: Path, number: int | None, line: bytes) -> Any:
    """The json module reads what orjson refuses on purpose (NaN, integers past 64 bits)."""
    try:
        return json.loads(line)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f"line {number}: " if number is not None else ""
        raise ReaderError(str(path), f"{where}malformed JSON ({reason})") from exc


def _kind(value: Any) -> str:  # noqa: PLR0911 - one return per JSON type
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if _INT64[0] <= value <= _INT64[1] else _TEXT
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "struct"
    return "list"


def _merge(node: _Node, value: Any, path: str, conflicts: set[str]) -> None:  # noqa: PLR0912
    kind = _kind(value)
    if kind == "null" or node.kind == _TEXT:
        return
    if kind == _TEXT:  # an integer past 64 bits: text keeps every digit
        _to_text(node, path, conflicts)
        return
    if kind == "int" and abs(value) > _EXACT_IN_FLOAT:
        node.big = True
    if node.kind == "null":
        node.kind = kind
    elif node.kind != kind:
        if {node.kind, kind} == {"int", "float"} and not node.big:
            node.kind = "float"
            return
        _to_text(node, path, conflicts)
        return
    if node.kind == "float" and node.big:
        _to_text(node, path, conflicts)
        return
    if kind == "struct":
        for key, inner in value.items():
            child = node.fields.get(key)
            if child is None:
                child = node.fields[key] = _Node()
            _merge(child, inner, f"{path}.{key}" if path else str(key), conflicts)
    elif kind == "list":
        item = node.item if node.item is not None else _Node()
        node.item = item
        for element in value:
            _merge(item, element, path, conflicts)
            if item.kind == _TEXT:
                # polars cannot read mixed elements into a list: the whole array is text.
                _to_text(node, path, conflicts)
                return


def _to_text(node: _Node, path: str, conflicts: set[str]) -> None:
    node.kind, node.fields, node.item = _TEXT, {}, None
    conflicts.add(path)


def _schema(root: _Node) -> pl.Schema:
    import polars as pl

    return pl.Schema({name: _dtype(node) for name, node in root.fields.items()})


def _dtype(node: _Node) -> pl.DataType:
    import polars as pl

    if node.kind == "struct":
        return pl.Struct([pl.Field(name, _dtype(child)) for name, child in node.fields.items()])
    if node.kind == "list":
        return pl.List(_dtype(node.item) if node.item is not None else pl.Null())
    plain: dict[str, pl.DataType] = {
        "null": pl.Null(),
        "bool": pl.Boolean(),
        "int": pl.Int64(),
        "float": pl.Float64(),
        "str": pl.String(),
        _TEXT: pl.String(),
    }
    return plain[node.kind]
