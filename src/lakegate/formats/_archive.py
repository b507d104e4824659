"""Compressed inputs (``.gz``, ``.zip``) and zip-based formats (xlsx, ods) behind one guard.

An archive bomb is a small file that expands to an enormous one. Every expansion here is
streamed and counted as it happens, and stops with a ``ReaderError`` as soon as it passes
a limit of :class:`ArchiveLimits`: total uncompressed bytes, number of zip entries, or
the ratio uncompressed / compressed (checked once the output passed ``ratio_floor_bytes``,
since small files legitimately compress very well). Declared sizes in a zip directory are
checked first, then the real sizes while extracting, because a directory can lie.

Entry names are never used as paths: members are extracted under generated names in a
scratch folder, and an entry name only ever reaches the output as a sanitised table name.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from lakegate.errors import InputError, ReaderError

__all__ = [
    "ArchiveLimits",
    "check_zip_container",
    "gunzip_to",
    "is_encrypted",
    "parse_size",
    "size_text",
    "zip_members",
]

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB
_CHUNK: Final = 1 * MiB


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits on what one archive may expand to (defaults fit real data, not bombs)."""

    max_bytes: int = 16 * GiB
    """Total uncompressed bytes one archive may expand to."""
    max_ratio: float = 200.0
    """Uncompressed / compressed size; text compresses 5-20x, bombs 1000x and more."""
    max_entries: int = 10_000
    """Entries in one zip (xlsx and ods included)."""
    ratio_floor_bytes: int = 64 * MiB
    """The ratio is only enforced past this many uncompressed bytes."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_ratio", "max_entries"):
            if not getattr(self, name) > 0:
                raise InputError(f"archive limit {name}: must be positive, got {getattr(self, name)!r}")
        if self.ratio_floor_bytes < 0:
            raise InputError(f"archive limit ratio_floor_bytes: must be >= 0, got {self.ratio_floor_bytes!r}")

    def check(self, path: Path, *, uncompressed: int, compressed: int, entries: int = 1) -> None:
        """Raise ``ReaderError`` when the sizes pass a limit."""
        if entries > self.max_entries:
            raise ReaderError(
                str(path), f"archive holds {entries} entries, more than the limit of {self.max_entries}"
            )
        if uncompressed > self.max_bytes:
            raise ReaderError(
                str(path),
                f"archive expands to more than {_size(self.max_bytes)} (limit; possible archive bomb)",
            )
        if uncompressed > self.ratio_floor_bytes and uncompressed > self.max_ratio * max(compressed, 1):
            raise ReaderError(
                str(path),
                f"archive expands more than {self.max_ratio:g}x "
                f"({_size(compressed)} -> {_size(uncompressed)}; possible archive bomb)",
            )


_UNITS: Final = {
    "": 1,
    "b": 1,
    **{p: 1024**i for i, p in enumerate("kmgt", start=1)},
    **{f"{p}ib": 1024**i for i, p in enumerate("kmgt", start=1)},
    **{f"{p}b": 1000**i for i, p in enumerate("kmgt", start=1)},
}
_SIZE_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"16GiB"`` -> bytes: ``K``/``KiB``, ``M``/``MiB``... are powers of 1024, ``KB``, ``MB``... of 1000."""
    match = _SIZE_RE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise InputError(
            f"size {text!r}: expected a number of bytes with an optional unit, e.g. 512MiB or 2GB"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def size_text(n: int) -> str:
    """Bytes in the largest binary unit that writes them exactly: ``16GiB``, ``1536KiB``, ``100``."""
    for unit, scale in (("TiB", 1024**4), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def _size(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def gunzip_to(src: Path, dst: Path, limits: ArchiveLimits) -> int:
    """Decompress the gzip file ``src`` into ``dst`` within ``limits``; return the bytes written.

    Multi-member gzip files are read whole; a truncated or corrupt stream is a ``ReaderError``.
    """
    written = 0
    with dst.open("wb") as target:
        for chunk in _inflate(src, limits):
            written += len(chunk)
            target.write(chunk)
    return written


def _inflate(src: Path, limits: ArchiveLimits) -> Iterator[bytes]:
    consumed = produced = 0
    inflater = zlib.decompressobj(wbits=31)
    in_member = False
    with src.open("rb") as source:
        data = b""
        while True:
            if not data:
                data = source.read(_CHUNK)
                consumed += len(data)
            if not data and not in_member:
                if consumed == 0:
                    raise ReaderError(str(src), "empty file")
                return
            in_member = True
            try:
                # max_length bounds the output of one call: a tiny input can expand hugely.
                out = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise ReaderError(str(src), f"corrupt gzip data ({exc})") from exc
            if not data and not out and not inflater.eof:
                raise ReaderError(str(src), "truncated gzip file (unexpected end of data)")
            data = inflater.unconsumed_tail
            if inflater.eof:
                # Another gzip member may follow (``cat a.gz b.gz > c.gz``).
                data = inflater.unused_data + data
                inflater = zlib.decompressobj(wbits=31)
                in_member = False
            produced += len(out)
            limits.check(src, uncompressed=produced, compressed=consumed)
            yield out


def is_encrypted(info: zipfile.ZipInfo) -> bool:
    return bool(info.flag_bits & 0x1)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError) as exc:
        raise ReaderError(str(path), f"not a valid zip file ({exc})") from exc
    except OSError as exc:
        raise ReaderError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def check_zip_container(path: Path, limits: ArchiveLimits, *, kind: str) -> None:
    """Check a zip-based document (xlsx, ods) against ``limits`` before a parser opens it."""
    with _open_zip(path) as archive:
        infos = archive.infolist()
        if any(is_encrypted(info) for info in infos):
            raise ReaderError(str(path), f"password-protected {kind}")
        limits.check(
            path,
            uncompressed=sum(info.file_size for info in infos),
            compressed=sum(info.compress_size for info in infos) or path.stat().st_size,
            entries=len(infos),
        )


def zip_members(path: Path, work_dir: Path, limits: ArchiveLimits) -> list[tuple[str, Path]]:
    """Extract the files of the zip ``path`` into ``work_dir``: ``(entry name, extracted path)``.

    Extracted files get generated names (``entry-0001.csv``) so an entry name can never
    point outside ``work_dir``; directories and empty names are skipped.
    """
    members: list[tuple[str, Path]] = []
    with _open_zip(path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        limits.check(
            path,
            uncompressed=sum(info.file_size for info in infos),
            compressed=sum(info.compress_size for info in infos),
            entries=len(infos),
        )
        total_in = 0
        total_out = 0
        for index, info in enumerate(infos, start=1):
            if is_encrypted(info):
                raise ReaderError(str(path), f"password-protected zip entry {info.filename!r}")
            suffixes = "".join(Path(info.filename.replace("\\", "/")).suffixes[-2:]).lower()
            target = work_dir / f"entry-{index:04d}{_safe_suffix(suffixes)}"
            total_in += info.compress_size
            try:
                with archive.open(info) as source, target.open("wb") as sink:
                    total_out = _copy_counted(source, sink, path, limits, total_out, total_in)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise ReaderError(str(path), f"corrupt zip entry {info.filename!r} ({exc})") from exc
            members.append((info.filename, target))
    return members


def _copy_counted(
    source: IO[bytes], sink: IO[bytes], path: Path, limits: ArchiveLimits, total_out: int, total_in: int
) -> int:
    while chunk := source.read(_CHUNK):
        total_out += len(chunk)
        limits.check(path, uncompressed=total_out, compressed=total_in)
        sink.write(chunk)
    return total_out


def _safe_suffix(suffixes: str) -> str:
    return "".join(ch for ch in suffixes if ch.isalnum() or ch == ".")[:16]
