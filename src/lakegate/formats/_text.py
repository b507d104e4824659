"""Text encodings: detect one from the head of a file, and re-encode a file to UTF-8.

Detection, in order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32); NUL bytes in every
other position (UTF-16 without a mark); the head decodes as UTF-8; else the best guess of
``charset-normalizer`` (cp1252 wins a tie). A head with NUL bytes that is none of these
is binary, not text. polars reads only UTF-8, so any other encoding is re-encoded into a
scratch copy first, streaming in bounded memory.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Final

from lakegate.errors import ReaderError

__all__ = ["HEAD_BYTES", "UTF8", "decode_head", "detect_encoding", "read_head", "transcode_to_utf8"]

HEAD_BYTES: Final = 4 * 1024 * 1024
_CHUNK: Final = 4 * 1024 * 1024
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UTF8: Final = ("utf-8", "utf-8-sig")


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise ReaderError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def detect_encoding(path: Path, head: bytes) -> str:
    """The encoding of a file starting with ``head`` (``ReaderError`` for binary data)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:65536]
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be"
        raise ReaderError(str(path), "binary data, not text (NUL bytes)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ReaderError(str(path), "cannot detect the text encoding (binary data?)")
    # Short samples often fit several code pages equally well; cp1252 is by far the
    # most common of them in exported data, so it wins a tie.
    tied = {str(match.encoding) for match in matches if match.chaos <= best.chaos + 0.01}
    return "cp1252" if "cp1252" in tied else str(best.encoding)


def decode_head(path: Path, head: bytes, encoding: str) -> str:
    """``head`` as text; an incomplete character at the cut is dropped."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        return decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise ReaderError(str(path), f"not valid {encoding} text at byte {exc.start}") from exc


def transcode_to_utf8(src: Path, dst: Path, encoding: str) -> None:
    """Re-encode ``src`` from ``encoding`` into UTF-8 at ``dst``, in bounded memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with src.open("rb") as source, dst.open("wb") as target:
        while True:
            chunk = source.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise ReaderError(
                    str(src), f"not valid {encoding} text near byte {offset + max(exc.start, 0)}"
                ) from exc
            target.write(text.encode("utf-8"))
            if not chunk:
                return
            offset += len(chunk)
