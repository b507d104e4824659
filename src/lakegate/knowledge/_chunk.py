"""Text cleanup and chunking: characters or whitespace tokens, with overlap.

Chunks never cross a page (the caller chunks page by page), so every chunk has one page number.
Character chunks end at the best natural break inside the window (paragraph, line, sentence,
word) so that a chunk rarely cuts a word; token chunks keep the original spacing between tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from lakegate.errors import InputError

__all__ = ["DEFAULT_SIZES", "ChunkOptions", "chunk_text", "clean_text", "clean_texts"]

ChunkUnit = Literal["chars", "tokens"]

# Defaults per unit: ~1000 characters is ~170 English words, small enough for a focused
# embedding and large enough to carry context; overlap ~15% keeps a sentence cut at a border
# findable from both sides.
DEFAULT_SIZES: dict[str, tuple[int, int]] = {"chars": (1000, 150), "tokens": (200, 30)}


@dataclass(frozen=True, slots=True)
class ChunkOptions:
    """How text is cut: ``unit`` (chars or whitespace tokens), ``size`` and ``overlap`` in that unit."""

    unit: ChunkUnit = "chars"
    size: int = 1000
    overlap: int = 150

    def __post_init__(self) -> None:
        if self.unit not in DEFAULT_SIZES:
            raise InputError(f"chunk unit must be one of {sorted(DEFAULT_SIZES)}, not {self.unit!r}")
        if self.size < 1:
            raise InputError(f"chunk size must be at least 1, not {self.size}")
        if not 0 <= self.overlap < self.size:
            raise InputError(
                f"chunk overlap must be between 0 and size - 1 ({self.size - 1}), not {self.overlap}"
            )

    @classmethod
    def for_unit(
        cls, unit: str = "chars", size: int | None = None, overlap: int | None = None
    ) -> ChunkOptions:
        """Options with the unit's defaults for whatever is not given."""
        if unit not in DEFAULT_SIZES:
            raise InputError(f"chunk unit must be one of {sorted(DEFAULT_SIZES)}, not {unit!r}")
        default_size, default_overlap = DEFAULT_SIZES[unit]
        size = default_size if size is None else size
        if overlap is None:
            overlap = size * default_overlap // default_size  # same ratio as the defaults
        return cls(unit=unit, size=size, overlap=overlap)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Line-end hyphenation: "infor-\nmation" -> "information" (only before a lower-case letter, so
# "Jean-\nPaul" and "2019-\n2020" keep their hyphen).
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[a-zß-ÿ])")
_TOKEN = re.compile(r"\S+")
_SURROGATE = re.compile("[\ud800-\udfff]")

# The other cleanup steps run over every text of a build at once in polars (Rust regex, no
# lookaround needed). Each pattern matches only what it changes: a lone space is left alone
# rather than replaced by itself, which is what made a per-text ``re.sub`` pass slow.
_HSPACE_CHARS = r"\t\x{A0}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}"  # besides " "
_STEPS = (
    ("\r\n", "\n", True),
    ("\r", "\n", True),
    (r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\x{AD}\x{FFFE}\x{FEFF}\x{200B}]", "", False),  # controls
    (f"[ {_HSPACE_CHARS}]{{2,}}|[{_HSPACE_CHARS}]", " ", False),  # a run of spaces -> one space
    (r" \n ?|\n ", "\n", False),  # no space at either end of a line
    (r"\n{3,}", "\n\n", False),  # at most one blank line
)


def _normalize(text: str) -> str:
    """NFKC (ligatures, full-width forms); a lone surrogate (from a JSON escape) becomes U+FFFD."""
    text = unicodedata.normalize("NFKC", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def clean_texts(texts: Sequence[str]) -> list[str]:
    """:func:`clean_text` of every text, in one vectorised pass (the build cleans all pages at once)."""
    if not texts:
        return []
    import polars as pl

    prepared = [t if t.isascii() else _normalize(t) for t in texts]
    series = pl.Series("text", prepared, dtype=pl.String)
    for pattern, replacement, literal in _STEPS:
        series = series.str.replace_all(pattern, replacement, literal=literal)
    # De-hyphenation needs lookbehind, which polars' regex engine lacks; few texts have "-\n".
    return [(_HYPHENATED.sub("", t) if "-\n" in t else t).strip() for t in series.to_list()]


def clean_text(text: str) -> str:
    """Normalise extracted text: NFKC (ligatures), newlines, spaces, de-hyphenation, blank runs."""
    return clean_texts([text])[0]


# Best breaks first; each is searched for in the second half of the window only, so a chunk
# is never much shorter than ``size``.
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


def _char_chunks(text: str, size: int, overlap: int) -> list[str]:
    n = len(text)
    chunks: list[str] = []
    start = 0
    while start < n:
        end = min(start + size, n)
        if end < n:
            floor = start + size // 2
            for sep in _BREAKS:
                cut = text.rfind(sep, floor, end)
                if cut != -1:
                    end = cut + len(sep)
                    break
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= n:
            break
        next_start = max(end - overlap, start + 1)
        if overlap and next_start > start + 1:
            # Start the overlap at a word boundary rather than mid-word.
            space = text.find(" ", next_start, end)
            if space != -1:
                next_start = space + 1
        start = next_start
    return chunks


def _token_chunks(text: str, size: int, overlap: int) -> list[str]:
    spans = [m.span() for m in _TOKEN.finditer(text)]
    chunks: list[str] = []
    step = size - overlap
    for first in range(0, len(spans), step):
        last = min(first + size, len(spans)) - 1
        chunks.append(text[spans[first][0] : spans[last][1]])
        if last == len(spans) - 1:
            break
    return chunks


def chunk_text(text: str, options: ChunkOptions) -> list[str]:
    """Split already-cleaned ``text`` into overlapping chunks (an empty text gives no chunk)."""
    if not text:
        return []
    if options.unit == "tokens":
        return _token_chunks(text, options.size, options.overlap)
    if len(text) <= options.size:
        return [text]
    return _char_chunks(text, options.size, options.overlap)
