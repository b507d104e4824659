"""Per-file-type text extraction: a registry of extension -> dotted path, heavy imports lazy.

Every extractor takes the file's bytes (already read once for the content hash) and returns
pages: ``(page_number_or_None, text)``. A file that cannot be read raises
:class:`~lakegate.errors.ReaderError` whose ``detail["skip"]`` is the skip reason the build
reports (``binary``, ``encrypted``, ``unreadable``).
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

from lakegate.errors import InputError, ReaderError

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "Page",
    "extract",
    "extractor_for",
    "looks_binary",
    "render_row",
]


class Page(NamedTuple):
    """Text of one page (PDF page, spreadsheet sheet) or of a whole file (``number`` is None)."""

    number: int | None
    text: str


Extractor = Callable[[bytes, Path], list[Page]]

_HERE = "lakegate.knowledge._extract"
_OFFICE = "lakegate.knowledge._extract_office"

# Extension -> "module:function". Imported on first use, so a missing library only hurts its format.
EXTRACTORS: dict[str, str] = {
    ".txt": f"{_HERE}:extract_plain",
    ".text": f"{_HERE}:extract_plain",
    ".md": f"{_HERE}:extract_plain",
    ".markdown": f"{_HERE}:extract_plain",
    ".rst": f"{_HERE}:extract_plain",
    ".html": f"{_HERE}:extract_html",
    ".htm": f"{_HERE}:extract_html",
    ".csv": f"{_HERE}:extract_csv",
    ".tsv": f"{_HERE}:extract_csv",
    ".json": f"{_HERE}:extract_json",
    ".jsonl": f"{_HERE}:extract_json_lines",
    ".ndjson": f"{_HERE}:extract_json_lines",
    ".pdf": f"{_OFFICE}:extract_pdf",
    ".docx": f"{_OFFICE}:extract_docx",
    ".xlsx": f"{_OFFICE}:extract_spreadsheet",
    ".xlsm": f"{_OFFICE}:extract_spreadsheet",
    ".xls": f"{_OFFICE}:extract_spreadsheet",
    ".ods": f"{_OFFICE}:extract_spreadsheet",
}

_loaded: dict[str, Extractor] = {}


def extractor_for(path: Path) -> Extractor | None:
    """The extractor registered for ``path``'s extension, imported on first use; None if unsupported."""
    dotted = EXTRACTORS.get(path.suffix.lower())
    if dotted is None:
        return None
    if dotted not in _loaded:
        module_name, _, attr = dotted.partition(":")
        _loaded[dotted] = getattr(importlib.import_module(module_name), attr)
    return _loaded[dotted]


def extract(path: Path, data: bytes) -> list[Page]:
    """Extract ``data`` (the bytes of ``path``) with the extractor of its extension."""
    extractor = extractor_for(path)
    if extractor is None:
        raise InputError(f"{path}: no extractor for {path.suffix or 'files without extension'!r}")
    return extractor(data, path)


# --- text ---------------------------------------------------------------------------------------

_SNIFF_BYTES = 8192
# Bytes that never occur in text files (NUL and most C0 controls; tab, newlines and form feed do).
_BINARY_BYTES = frozenset(range(32)) - {9, 10, 12, 13, 27}
_TEXT_BYTES = bytes(b for b in range(256) if b not in _BINARY_BYTES)


def looks_binary(data: bytes) -> bool:
    """True when the first 8 KiB hold a NUL byte or more than 10% control bytes."""
    head = data[:_SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    # Deleting every text byte leaves the control bytes: one C loop, not a Python one per byte.
    controls = len(head.translate(None, _TEXT_BYTES))
    return controls > len(head) // 10


def decode_text(data: bytes, path: Path) -> str:
    """Decode text bytes: UTF-8 (with or without BOM) first, else charset-normalizer's best guess."""
    if looks_binary(data):
        raise ReaderError(str(path), "binary content in a text file", detail={"skip": "binary"})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ReaderError(str(path), "no text encoding fits", detail={"skip": "binary"})
    return str(best)


def extract_plain(data: bytes, path: Path) -> list[Page]:
    return [Page(None, decode_text(data, path))]


class _HtmlText(HTMLParser):
    """Visible text of an HTML document: scripts and styles dropped, blocks on their own lines."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {
            "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
            "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "title", "dt", "dd", "hr", "main",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._title = True
        elif tag in self._SKIP:
            self._skipping += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._title = False
        elif tag in self._SKIP and self._skipping:
            self._skipping -= 1
        if tag in {"td", "th"}:
            self.parts.append(" | ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n" if tag in {"p", "h1", "h2", "h3", "title", "table"} else "\n")

    def handle_data(self, data: str) -> None:
        if self._title or not self._skipping:
            self.parts.append(data)


def extract_html(data: bytes, path: Path) -> list[Page]:
    parser = _HtmlText()
    parser.feed(decode_text(data, path))
    parser.close()
    return [Page(None, "".join(parser.parts))]


# --- tabular --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value).strip()


def render_row(header: list[str], row: Iterable[Any]) -> str:
    """One table row as text: ``name: Ada; city: London`` (empty cells left out)."""
    parts = []
    for index, value in enumerate(row):
        text = _cell(value)
        if not text:
            continue
        name = header[index] if index < len(header) and header[index] else f"column {index + 1}"
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


def render_table(rows: Iterable[list[Any]]) -> str:
    """A table whose first non-empty row is the header, one rendered line per data row."""
    lines: list[str] = []
    header: list[str] | None = None
    for row in rows:
        if not any(_cell(value) for value in row):
            continue
        if header is None:
            header = [_cell(value) for value in row]
            continue
        line = render_row(header, row)
        if line:
            lines.append(line)
    if header is not None and not lines:
        lines.append(" | ".join(name for name in header if name))
    return "\n".join(lines)


def extract_csv(data: bytes, path: Path) -> list[Page]:
    text = decode_text(data, path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with contextlib.suppress(csv.Error):  # keep the extension's default
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
    try:
        return [Page(None, render_table(csv.reader(io.StringIO(text), delimiter=delimiter)))]
    except csv.Error as exc:
        raise ReaderError(str(path), f"bad CSV: {exc}", detail={"skip": "unreadable"}) from exc


# --- JSON -----------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    elif isinstance(value, list):
        yield prefix, ", ".join(_cell(item) for item in value)
    else:
        yield prefix, value


def _render_json(value: Any) -> str:
    """Records (a list of objects) one per line; any other document as ``a.b: value`` lines."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        lines = []
        for item in value:
            pairs = [(key, _cell(val)) for key, val in _flatten(item)]
            lines.append("; ".join(f"{key}: {val}" for key, val in pairs if val))
        return "\n".join(line for line in lines if line)
    lines = [f"{key}: {_cell(val)}" if key else _cell(val) for key, val in _flatten(value)]
    return "\n".join(line for line in lines if line.strip() and not line.endswith(": "))


def extract_json(data: bytes, path: Path) -> list[Page]:
    try:
        document = json.loads(decode_text(data, path))
    except json.JSONDecodeError as exc:
        raise ReaderError(str(path), f"invalid JSON: {exc}", detail={"skip": "unreadable"}) from exc
    return [Page(None, _render_json(document))]


def extract_json_lines(data: bytes, path: Path) -> list[Page]:
    records = []
    for number, line in enumerate(decode_text(data, path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ReaderError(
                str(path), f"invalid JSON on line {number}: {exc}", detail={"skip": "unreadable"}
            ) from exc
    return [Page(None, _render_json(records))]
