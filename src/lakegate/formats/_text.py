"""Text encodings: detect one from the head of a file, and re-encode a file to UTF-8.

Detection, in order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32); NUL bytes in every
other position (UTF-16 without a mark); the head decodes as UTF-8; else the best guess of
``charset-normalizer`` (cp1252 wins a tie). polars reads only UTF-8, so any other encoding
is re-encoded into a scratch copy first, streaming in bounded memory.

NUL bytes: a text file padded with NULs (a preallocated log, a copy cut short by a crash)
is text; a file made mostly of NULs or of other control bytes is binary. The rule, on the
first 64 KiB with its trailing run of NULs set aside (padding at the end is the common
case): more than :data:`NUL_BINARY_SHARE` NULs, or more than :data:`CONTROL_BINARY_SHARE`
other control bytes (compressed or executable data has ~10 %), is binary. Otherwise the
NULs are dropped while re-encoding (:func:`transcode_to_utf8` counts them for a warning).
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lakegate.errors import ReaderError

__all__ = [
    "CONTROL_BINARY_SHARE",
    "HEAD_BYTES",
    "NUL_BINARY_SHARE",
    "UTF8",
    "Transcoded",
    "bare_crs_outside_quotes",
    "decode_head",
    "detect_encoding",
    "has_nul",
    "read_head",
    "transcode_to_utf8",
]

HEAD_BYTES: Final = 4 * 1024 * 1024
NUL_BINARY_SHARE: Final = 0.10
CONTROL_BINARY_SHARE: Final = 0.01
_SAMPLE: Final = 65536
_CHUNK: Final = 4 * 1024 * 1024
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UTF8: Final = ("utf-8", "utf-8-sig")
WIDE: Final = ("utf-16", "utf-16-le", "utf-16-be", "utf-32")
"""Encodings whose NUL bytes are part of the characters (never padding)."""
# C0 control bytes other than NUL, tab, line feed, vertical tab, form feed, carriage return, escape.
_CONTROLS: Final = bytes([*range(1, 9), 14, *range(15, 27), *range(28, 32)])


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise ReaderError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def _read_tail(path: Path, size: int = _SAMPLE) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - size))
            return handle.read(size)
    except OSError as exc:
        raise ReaderError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def detect_encoding(path: Path, head: bytes) -> str:
    """The encoding of a file starting with ``head`` (``ReaderError`` for binary data)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:_SAMPLE]
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be"
        _refuse_binary(path, sample)
        head = head.replace(b"\x00", b"")
        sample = sample.replace(b"\x00", b"")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        # Judge the bytes that are not UTF-8 too: a clean ASCII start says nothing about them.
        sample = sample + b"\n" + head[max(exc.start - _SAMPLE // 2, len(sample)) : exc.start + _SAMPLE // 2]
    else:
        return "utf-8"
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ReaderError(str(path), "cannot detect the text encoding (binary data?)")
    # Short samples often fit several code pages equally well; cp1252 is by far the
    # most common of them in exported data, so it wins a tie (and stands in for ASCII,
    # which the bytes that are not UTF-8 cannot be).
    tied = {str(match.encoding) for match in matches if match.chaos <= best.chaos + 0.01}
    return "cp1252" if "cp1252" in tied or str(best.encoding) == "ascii" else str(best.encoding)


def _refuse_binary(path: Path, sample: bytes) -> None:
    """Raise for a sample that is binary data; return for text padded with a few NULs."""
    body = sample.rstrip(b"\x00")
    if not body:
        raise ReaderError(str(path), "binary data, not text (NUL bytes only)")
    nuls = body.count(0)
    controls = len(body) - len(body.translate(None, _CONTROLS))
    if nuls > len(body) * NUL_BINARY_SHARE or controls > len(body) * CONTROL_BINARY_SHARE:
        share = (nuls + controls) / len(body)
        raise ReaderError(
            str(path),
            f"binary data, not text (NUL bytes): {share:.0%} of the first 64 KiB are NUL or control bytes",
        )


def has_nul(path: Path, head: bytes, encoding: str) -> bool:
    """True when the head or the tail of a file in ``encoding`` holds NUL padding."""
    if encoding in WIDE:
        return False
    return b"\x00" in head or b"\x00" in _read_tail(path)


def decode_head(path: Path, head: bytes, encoding: str) -> str:
    """``head`` as text; an incomplete character at the cut is dropped, NUL padding too."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise ReaderError(str(path), f"not valid {encoding} text at byte {exc.start}") from exc
    return text.replace("\x00", "")


def bare_crs_outside_quotes(text: str, quote: str | None) -> int:
    """How many carriage returns of ``text`` end a line on their own (not ``\\r\\n``, not quoted)."""
    if "\r" not in text:
        return 0
    parts = text.split(quote) if quote else [text]
    return sum(_bare_crs(part) for part in parts[0::2])


def _bare_crs(text: str) -> int:
    return text.count("\r") - text.count("\r\n")


@dataclass(frozen=True)
class Transcoded:
    """What re-encoding changed: NUL bytes dropped, lone ``\\r`` line ends made ``\\n``."""

    nuls: int = 0
    line_ends: int = 0


def transcode_to_utf8(
    src: Path, dst: Path, encoding: str, *, strip_nul: bool = False, cr_quote: str | None = None
) -> Transcoded:
    """Re-encode ``src`` from ``encoding`` into UTF-8 at ``dst``, in bounded memory.

    ``strip_nul`` drops NUL characters (padding). ``cr_quote`` turns every lone ``\\r``
    outside fields quoted with that character into ``\\n`` (old Mac and mixed line ends);
    ``\\r\\n`` and quoted text are left as they are.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = nuls = line_ends = 0
    inside = False  # in a quoted field at the end of the previous chunk
    carry = ""  # a trailing "\r" held back: the "\n" making it "\r\n" may start the next chunk
    with src.open("rb") as source, dst.open("wb") as target:
        while True:
            chunk = source.read(_CHUNK)
            try:
                text = carry + decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise ReaderError(
                    str(src), f"not valid {encoding} text near byte {offset + max(exc.start, 0)}"
                ) from exc
            carry = ""
            if strip_nul and "\x00" in text:
                nuls += text.count("\x00")
                text = text.replace("\x00", "")
            if cr_quote is not None and "\r" in text:
                if chunk and text.endswith("\r"):
                    text, carry = text[:-1], "\r"
                text, inside, fixed = _line_ends(text, cr_quote, inside)
                line_ends += fixed
            target.write(text.encode("utf-8"))
            if not chunk:
                return Transcoded(nuls=nuls, line_ends=line_ends)
            offset += len(chunk)


def _line_ends(text: str, quote: str, inside: bool) -> tuple[str, bool, int]:
    parts = text.split(quote)
    fixed = 0
    for index, part in enumerate(parts):
        part_inside = inside != bool(index % 2)
        if not part_inside and "\r" in part:
            fixed += _bare_crs(part)
            parts[index] = part.replace("\r\n", "\n").replace("\r", "\n")
    return quote.join(parts), inside != bool((len(parts) - 1) % 2), fixed
