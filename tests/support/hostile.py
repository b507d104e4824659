"""Hostile files: corrupt and edge inputs of every format, and a watched runner for them.

:func:`generate` writes at least 1,000 files into a folder, deterministically (a seed):
valid seeds of every format (csv, tsv, json, jsonl, parquet, xlsx, xls, ods, pdf, zip, gz)
cut, bit-flipped, spliced, NUL-padded and renamed to every other extension, plus
hand-made attacks (10k columns, deeply nested JSON, zip and gzip bombs, XML bombs and
huge shared-strings parts in xlsx, zip entries named ``../`` or stored as symlinks, PDFs
with broken xref tables, Kids loops and FlateDecode bombs, bad spreadsheet dates, a
200 MB single line with ``full=True``).

:func:`run_watched` converts them through ``lakegate.lake.convert`` (what ``lakegate
convert`` runs) in a worker process, one file at a time: a file still converting after
``timeout`` seconds is a hang (the worker is killed and restarted), anything but a
``LakegateError`` is a crash, and the worker's peak RSS (children included) is sampled.
``benchmarks/_fuzz.py`` (``make fuzz``) runs the whole set; the test suite a sample.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import os
import random
import select
import stat
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.core.formats.builders import write_ods, write_pdf, write_xls, write_xlsx

__all__ = ["Hostile", "Outcome", "generate", "run_watched", "sample", "summary"]

MiB = 1024 * 1024
EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".xlsx", ".xls", ".ods", ".pdf", ".zip", ".gz")


@dataclass(frozen=True)
class Hostile:
    path: Path
    family: str
    """What was done to it: truncated, bitflip, splice, nul, wrong-ext, tiny, encoding, attack."""


# -- valid seeds ------------------------------------------------------------------------------


def _rows() -> list[list[Any]]:
    header: list[Any] = ["id", "name", "when", "amount", "ok"]
    when = [dt.datetime(2024, 1, 1 + i % 28, i % 24, 0) for i in range(40)]  # noqa: DTZ001 - naive, as files are
    return [header, *([i, f'name, {i} "q"', when[i], i * 1.25, i % 2 == 0] for i in range(40))]


def _csv(sep: str) -> bytes:
    out = io.StringIO()
    for row in _rows():
        cells = []
        for value in row:
            text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
            cells.append('"' + text.replace('"', '""') + '"' if any(c in text for c in f'{sep}"\n') else text)
        out.write(sep.join(cells) + "\n")
    return out.getvalue().encode()


def _records() -> list[dict[str, Any]]:
    header, *body = _rows()
    return [
        {
            **dict(
                zip(header, [v.isoformat() if isinstance(v, dt.datetime) else v for v in row], strict=True)
            ),
            "tags": ["a", "b"],
            "meta": {"k": row[0], "deep": {"x": 1}},
        }
        for row in body
    ]


def _parquet() -> bytes:
    import polars as pl

    buffer = io.BytesIO()
    pl.DataFrame(_records()).write_parquet(buffer)
    return buffer.getvalue()


def _via(path: Path, write: Callable[[Path], Any]) -> bytes:
    write(path)
    data = path.read_bytes()
    path.unlink()
    return data


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def seeds(work: Path) -> dict[str, bytes]:
    """One valid file per extension."""
    rows = _rows()
    sheets = {"data": rows, "second": [["a", "b"], [1, "x"], [2, "y"]]}
    csv = _csv(",")
    return {
        ".csv": csv,
        ".tsv": _csv("\t"),
        ".json": json.dumps(_records()).encode(),
        ".jsonl": b"".join(json.dumps(r).encode() + b"\n" for r in _records()),
        ".parquet": _parquet(),
        ".xlsx": _via(work / "seed.xlsx", lambda p: write_xlsx(p, sheets)),
        ".xls": _via(work / "seed.xls", lambda p: write_xls(p, sheets)),
        ".ods": _via(work / "seed.ods", lambda p: write_ods(p, sheets)),
        ".pdf": _via(
            work / "seed.pdf",
            lambda p: write_pdf(
                p, [(["Report"], [[str(c) for c in r[:3]] for r in rows[:8]]), (["p2"], None)]
            ),
        ),
        ".zip": _zip({"a.csv": csv, "b.json": json.dumps(_records()[:5]).encode()}),
        ".gz": gzip.compress(csv),
    }


def _gz_name(ext: str) -> str:
    return ".csv.gz" if ext == ".gz" else ext


# -- mutations --------------------------------------------------------------------------------


def _bitflip(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 2, 4, 8, 32))):
        index = rng.randrange(len(buf))
        buf[index] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _splice(data: bytes, rng: random.Random) -> bytes:
    a, b = sorted(rng.randrange(len(data)) for _ in range(2))
    match rng.randrange(3):
        case 0:
            return data[:a] + data[b:]  # a hole
        case 1:
            return data[:b] + data[a:b] * rng.randint(2, 20) + data[b:]  # a repeat
        case _:
            return data[:a] + rng.randbytes(rng.randint(1, 64)) + data[a:]  # noise


def _nul(data: bytes, rng: random.Random) -> bytes:
    index = rng.randrange(len(data))
    return data[:index] + b"\x00" * rng.choice((1, 3, 100, 5000)) + data[index:]


def _mixed_encodings(rng: random.Random, ext: str) -> bytes:
    text = ["name;city", "Zoë;Köln", "José;São Paulo", "Ærøskøbing;Ødense", "emoji 😀;naïve"]
    parts: list[bytes] = []
    for line in text:
        codec = rng.choice(("utf-8", "latin-1", "cp1252", "utf-16", "utf-8-sig"))
        parts.append(line.encode(codec, "replace") + rng.choice((b"\n", b"\r\n", b"\r")))
    if ext in (".json", ".jsonl"):
        return b'{"a": "' + b"".join(parts).replace(b"\n", b" ") + b'"}\n'
    return b"".join(parts)


# -- hand-made attacks ------------------------------------------------------------------------


def _zip_entries(entries: Iterable[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # duplicate names are the point
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _zeros_deflated(size: int, *, wbits: int) -> bytes:
    """``size`` zero bytes deflated (raw: wbits=-15, gzip: 31) without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"0" * MiB
    out = [packer.compress(block) for _ in range(size // MiB)]
    out.append(packer.flush())
    return b"".join(out)


def _zip_bomb(size: int) -> bytes:
    """A zip of one ``big.csv`` entry expanding to ``size`` bytes (written raw, no re-compression)."""
    raw = _zeros_deflated(size, wbits=-15)
    crc = 0
    block = b"0" * MiB
    for _ in range(size // MiB):
        crc = zlib.crc32(block, crc)
    name = b"big.csv"
    local = (
        b"PK\x03\x04"
        + (20).to_bytes(2, "little")
        + b"\x00\x00"
        + (8).to_bytes(2, "little")
        + b"\x00" * 4
        + crc.to_bytes(4, "little")
        + len(raw).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + b"\x00\x00"
        + name
    )
    central = (
        b"PK\x01\x02"
        + (20).to_bytes(2, "little")
        + (20).to_bytes(2, "little")
        + b"\x00\x00"
        + (8).to_bytes(2, "little")
        + b"\x00" * 4
        + crc.to_bytes(4, "little")
        + len(raw).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + b"\x00" * 8
        + b"\x00" * 4
        + (0).to_bytes(4, "little")
        + name
    )
    offset = len(local) + len(raw)
    end = (
        b"PK\x05\x06"
        + b"\x00" * 4
        + (1).to_bytes(2, "little") * 2
        + len(central).to_bytes(4, "little")
        + offset.to_bytes(4, "little")
        + b"\x00\x00"
    )
    return local + raw + central + end


def _xlsx_with(work: Path, parts: dict[str, bytes], *, shared: bytes | None = None) -> bytes:
    """The seed workbook with some parts replaced (``shared``: a sharedStrings part, wired in)."""
    base = _via(work / "x.xlsx", lambda p: write_xlsx(p, {"data": [["a", "b"], [1, 2]]}))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = parts.get(info.filename, source.read(info))
            if shared is not None and info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info.filename, data)
        if shared is not None:
            target.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


_SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>'
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(cells: bytes, doctype: bytes = b"") -> bytes:
    return (
        _SHEET_HEAD + doctype + b"<worksheet " + _NS + b"><sheetData>" + cells + b"</sheetData></worksheet>"
    )


def _laughs(levels: int) -> bytes:
    ents = [b'<!ENTITY lol0 "lollollollollollollollollollol">']
    ents += [
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        for i in range(1, levels)
    ]
    return b"<!DOCTYPE lolz [" + b"".join(ents) + b"]>"


def _pdf(objects: list[bytes], *, xref: bool = True, startxref: int | None = None) -> bytes:
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    where = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        where if startxref is None else startxref,
    )
    return out


def _pdf_page(
    content: bytes, *, flate: bool = False, kids: bytes = b"[3 0 R]", count: int = 1
) -> list[bytes]:
    stream = zlib.compress(content, 9) if flate else content
    return [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids%s/Count %d>>" % (kids, count),
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d%s>>stream\n" % (len(stream), b"/Filter/FlateDecode" if flate else b"")
        + stream
        + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]


def attacks(work: Path, *, full: bool) -> dict[str, bytes]:
    """Hand-made hostile files: name (with extension) -> bytes."""
    wide = 10_000
    header = ",".join(f"c{i}" for i in range(wide))
    files: dict[str, bytes] = {
        # width
        "wide-10k.csv": (header + "\n" + ",".join("1" for _ in range(wide)) + "\n").encode(),
        "wide-10k.tsv": (
            header.replace(",", "\t") + "\n" + "\t".join("x" for _ in range(wide)) + "\n"
        ).encode(),
        "wide-20k.csv": (",".join(f"c{i}" for i in range(20_000)) + "\n").encode(),
        "wide-10k.jsonl": (json.dumps({f"k{i}": i for i in range(wide)}) + "\n").encode(),
        "wide-10k.json": json.dumps([{f"k{i}": i for i in range(wide)}]).encode(),
        "dup-names-5k.csv": (
            ",".join("a" for _ in range(5000)) + "\n" + ",".join("1" for _ in range(5000))
        ).encode(),
        # lines and quotes
        "long-line-8mb.csv": b"a,b\n1," + b"x" * (8 * MiB) + b"\n",
        "unclosed-quote.csv": b'a,b\n1,"never closed\n2,3\n' * 100,
        "cr-only.csv": b"a,b\r1,2\r3,4\r",
        "only-separators.csv": b",,,,\n,,,,\n",
        "header-only.csv": b"a,b,c\n",
        "blank-lines.csv": b"\n\n\n\n",
        "ragged.csv": b"a,b,c\n1\n1,2,3,4,5,6\n" * 50,
        "bad-dates.csv": b"d\n2024-01-01\n2024-13-45\n0000-00-00\n99999-01-01\n",
        "huge-ints.csv": b"n\n1\n" + b"9" * 400 + b"\n",
        "bom-middle.csv": b"a,b\n1,2\n\xef\xbb\xbf3,4\n",
        "utf16-nobom.csv": "a,b\n1,2\n".encode("utf-16-le"),
        "utf32.csv": "a,b\n1,2\n".encode("utf-32"),
        "binary-noise.csv": random.Random(1).randbytes(50_000),
        # JSON
        "nested-100k.json": b"[" * 100_000 + b"]" * 100_000,
        "nested-obj-500.json": b"[" + b'{"a":' * 500 + b"1" + b"}" * 500 + b"]",
        "nested-obj-65.jsonl": b'{"a":' * 65 + b"1" + b"}" * 65 + b"\n",
        "nested-obj-2000.jsonl": (b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"\n") * 2,
        "nested-list-300.jsonl": b'{"a":' + b"[" * 300 + b"]" * 300 + b"}\n",
        "surrogates.json": b'[{"a": "\\ud800x"}, {"a": "\\udfff"}, {"a": "ok"}]',
        "surrogates.jsonl": b'{"a": "\\ud800"}\n{"a": "\\udc00\\ud800"}\n',
        "case-dup-keys.json": b'[{"a": 1, "A": 2}, {"a": 3, "A": 4}]',
        "case-dup-keys.jsonl": b'{"Name": 1, "name": 2, "NAME": 3}\n',
        "dup-keys.json": b'[{"a": 1, "a": 2}]',
        "nan-inf.jsonl": b'{"a": NaN}\n{"a": Infinity}\n{"a": -Infinity}\n',
        "big-numbers.jsonl": b'{"a": 1e400}\n{"a": 123456789012345678901234567890}\n',
        "scalars.json": b"[1, 2, 3]",
        "scalar.json": b"42",
        "mixed-array.json": b'[{"a": 1}, 2, "x", null, [1]]',
        "empty-keys.jsonl": b'{"": 1, " ": 2, ".": 3, "a.b": 4}\n',
        "huge-string.jsonl": b'{"a": "' + b"x" * (4 * MiB) + b'"}\n',
        "not-json.json": b"<html><body>nope</body></html>",
        "trailing-garbage.json": b'[{"a": 1}] trailing',
        # archives
        "zip-slip.zip": _zip_entries([("../../evil.csv", b"a\n1\n"), ("/etc/evil.csv", b"a\n1\n")]),
        "zip-symlink.zip": _zip_entries([_symlink("link.csv", "/etc/passwd"), ("ok.csv", b"a\n1\n")]),
        "zip-symlink-only.zip": _zip_entries([_symlink("link.csv", "../../../etc/shadow")]),
        "zip-dup-names.zip": _zip_entries([("a.csv", b"a\n1\n"), ("a.csv", b"a\n2\n"), ("A.CSV", b"a\n3\n")]),
        "zip-many-entries.zip": _zip_entries((f"e{i}.csv", b"a\n1\n") for i in range(10_050)),
        "zip-nested.zip": _zip_entries([("inner.zip", _zip({"a.csv": b"a\n1\n"}))]),
        "zip-bomb.zip": _zip_bomb((256 if not full else 2048) * MiB),
        "zip-encrypted-flag.zip": _zip_entries([("a.csv", b"a\n1\n")]).replace(
            b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00", 1
        ),
        "gzip-bomb.csv.gz": _zeros_deflated((256 if not full else 2048) * MiB, wbits=31),
        "gzip-truncated.csv.gz": gzip.compress(b"a,b\n" * 10_000)[:200],
        "gzip-multimember.csv.gz": gzip.compress(b"a\n1\n") + gzip.compress(b"2\n"),
        "noname.gz": gzip.compress(b"a\n1\n"),
        # workbooks
        "xlsx-xml-bomb.xlsx": _xlsx_with(
            work,
            {
                "xl/worksheets/sheet1.xml": _sheet(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', _laughs(10)
                )
            },
        ),
        "xlsx-xml-bomb-shared.xlsx": _xlsx_with(
            work,
            {"xl/worksheets/sheet1.xml": _sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')},
            shared=_SHEET_HEAD + _laughs(10) + b"<sst " + _NS + b' count="1"><si><t>&lol9;</t></si></sst>',
        ),
        "xlsx-xxe.xlsx": _xlsx_with(
            work,
            {
                "xl/worksheets/sheet1.xml": _sheet(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>',
                    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
                )
            },
        ),
        "xlsx-huge-shared.xlsx": _xlsx_with(
            work,
            {"xl/worksheets/sheet1.xml": _sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')},
            shared=_SHEET_HEAD
            + b"<sst "
            + _NS
            + b' count="400000" uniqueCount="400000">'
            + b"".join(
                b"<si><t>s%07d-%s</t></si>" % (i, os.urandom(30).hex().encode()) for i in range(400_000)
            )
            + b"</sst>",
        ),
        "xlsx-bad-shared-index.xlsx": _xlsx_with(
            work, {"xl/worksheets/sheet1.xml": _sheet(b'<row r="1"><c r="A1" t="s"><v>999999</v></c></row>')}
        ),
        "xlsx-bad-dates.xlsx": _xlsx_with(
            work,
            {
                "xl/worksheets/sheet1.xml": _sheet(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>d</t></is></c></row>'
                    b'<row r="2"><c r="A2" s="1"><v>99999999999</v></c></row>'
                    b'<row r="3"><c r="A3" s="2"><v>-5</v></c></row>'
                    b'<row r="4"><c r="A4" s="1"><v>1e308</v></c></row>'
                    b'<row r="5"><c r="A5" s="2"><v>NaN</v></c></row>'
                )
            },
        ),
        "xlsx-far-cell.xlsx": _xlsx_with(
            work,
            {"xl/worksheets/sheet1.xml": _sheet(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')},
        ),
        "xlsx-wide-10k.xlsx": _via(
            work / "w.xlsx",
            lambda p: write_xlsx(p, {"w": [[f"c{i}" for i in range(wide)], list(range(wide))]}),
        ),
        "xlsx-dates-and-durations.xlsx": _xlsx_with(
            work,
            {
                "xl/worksheets/sheet1.xml": _sheet(
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>t</t></is></c></row>'
                    b'<row r="2"><c r="A2" s="2"><v>45000.5</v></c></row>'
                    b'<row r="3"><c r="A3" s="3"><v>1.5</v></c></row>'
                ),
                "xl/styles.xml": (
                    b'<?xml version="1.0" encoding="UTF-8"?><styleSheet ' + _NS + b'><numFmts count="2">'
                    b'<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
                    b'<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
                    b'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
                    b'<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
                    b'<cellXfs count="4"><xf numFmtId="0"/>'
                    b'<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/>'
                    b'<xf numFmtId="165" applyNumberFormat="1"/></cellXfs></styleSheet>'
                ),
            },
        ),
        "xlsx-durations-only.xlsx": b"",  # filled below (needs the styles above)
        "xlsx-not-a-zip.xlsx": b"PK\x03\x04 not really a zip",
        "xlsx-empty-zip.xlsx": _zip({}),
        "ods-no-content.ods": _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
        "xls-ole-header-only.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
        # PDFs
        "pdf-no-xref.pdf": _pdf(_pdf_page(b"BT /F1 12 Tf 72 720 Td (hi) Tj ET"), xref=False),
        "pdf-bad-startxref.pdf": _pdf(_pdf_page(b"BT /F1 12 Tf 72 720 Td (hi) Tj ET"), startxref=999_999),
        "pdf-garbage-xref.pdf": (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\nxref\n0 3\ngarbage\n%%EOF"
        ),
        "pdf-kids-loop.pdf": _pdf(_pdf_page(b"BT ET", kids=b"[2 0 R 3 0 R]", count=2)),
        "pdf-huge-count.pdf": _pdf(_pdf_page(b"BT /F1 12 Tf 72 720 Td (hi) Tj ET", count=2_000_000_000)),
        "pdf-flate-bomb.pdf": _pdf(
            _pdf_page(
                b"BT /F1 12 Tf 72 720 Td (hi) Tj ET\n" + b" " * ((300 if not full else 2000) * MiB),
                flate=True,
            )
        ),
        "pdf-many-ops.pdf": _pdf(_pdf_page(b"0 0 m 1 1 l S\n" * 200_000, flate=True)),
        "pdf-header-only.pdf": b"%PDF-1.7\n",
        "pdf-bad-length.pdf": _pdf(_pdf_page(b"BT ET")).replace(b"/Length 5", b"/Length 99999999"),
        # parquet
        "parquet-footer-cut.parquet": b"",  # filled below
        "parquet-magic-only.parquet": b"PAR1PAR1",
        "parquet-duration.parquet": b"",  # filled below
        "parquet-nested.parquet": b"",
        "parquet-no-rows.parquet": b"",
    }
    durations = files["xlsx-dates-and-durations.xlsx"]
    files["xlsx-durations-only.xlsx"] = _rewrite(
        durations,
        "xl/worksheets/sheet1.xml",
        _sheet(
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>t</t></is></c></row>'
            b'<row r="2"><c r="A2" s="3"><v>0.5</v></c></row><row r="3"><c r="A3" s="3"><v>1.5</v></c></row>'
        ),
    )
    import polars as pl

    def parquet(frame: pl.DataFrame) -> bytes:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()

    files["parquet-footer-cut.parquet"] = _parquet()[:-20]
    files["parquet-duration.parquet"] = parquet(
        pl.DataFrame(
            {"d": [dt.timedelta(hours=1), dt.timedelta(days=2)], "t": [dt.time(1, 2), dt.time(3, 4)]}
        )
    )
    files["parquet-nested.parquet"] = parquet(
        pl.DataFrame({"s": [{"a": [1, 2], "b": {"c": "x"}}], "n": [None]})
    )
    files["parquet-no-rows.parquet"] = parquet(pl.DataFrame({"a": []}, schema={"a": pl.Int64}))
    if full:
        files["line-200mb.csv"] = b"a," + b"x" * (200 * MiB) + b"\n"
        files["line-200mb.jsonl"] = b'{"a": "' + b"x" * (200 * MiB) + b'"}\n'
    return files


def _rewrite(zipped: bytes, part: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(zipped)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, data if info.filename == part else source.read(info))
    return out.getvalue()


# -- the set ----------------------------------------------------------------------------------


def generate(root: Path, *, full: bool = False, seed: int = 17) -> list[Hostile]:
    """Write the hostile set into ``root`` (at least 1,000 files); deterministic for ``seed``."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    work = root / ".work"
    work.mkdir(exist_ok=True)
    made: list[Hostile] = []

    def put(name: str, data: bytes, family: str) -> None:
        path = root / name
        path.write_bytes(data)
        made.append(Hostile(path, family))

    base = seeds(work)
    for ext, data in base.items():
        stem, suffix = ext.strip("."), _gz_name(ext)
        put(f"seed-{stem}{suffix}", data, "valid")
        for i, fraction in enumerate((0.0001, 0.01, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.99, 0.999)):
            put(f"trunc{i:02d}-{stem}{suffix}", data[: max(1, int(len(data) * fraction))], "truncated")
        for i in range(40):
            put(f"flip{i:02d}-{stem}{suffix}", _bitflip(data, rng), "bitflip")
        for i in range(15):
            put(f"splice{i:02d}-{stem}{suffix}", _splice(data, rng), "splice")
        for i in range(5):
            put(f"nul{i}-{stem}{suffix}", _nul(data, rng), "nul")
        for other in EXTENSIONS:
            if other != ext:
                put(f"as-{stem}{_gz_name(other)}", data, "wrong-ext")
        for i in range(3):
            put(f"byte{i}-{stem}{suffix}", bytes([rng.randrange(256)]), "tiny")
        put(f"empty-{stem}{suffix}", b"", "tiny")
        put(f"spaces-{stem}{suffix}", b" \n\t\r\n", "tiny")
    for i in range(24):
        ext = (".csv", ".tsv", ".json", ".jsonl")[i % 4]
        put(f"mixed-enc{i:02d}{ext}", _mixed_encodings(rng, ext), "encoding")
    for name, data in attacks(work, full=full).items():
        put(f"attack-{name}", data, "attack")
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    return made


# Attacks that are slow by design (they run to a budget, or are merely big): full runs only.
SLOW = ("pdf-many-ops", "dup-names-5k", "wide-10k", "xlsx-huge-shared", "long-line-8mb", "huge-string")


def sample(files: list[Hostile], count: int, *, seed: int = 5, quick: bool = False) -> list[Hostile]:
    """``count`` files: every attack and seed, the rest drawn evenly from the other families.

    ``quick`` leaves out the attacks in :data:`SLOW` (for a bounded CI run).
    """
    rng = random.Random(seed)
    keep = [
        f
        for f in files
        if f.family in ("attack", "valid") and not (quick and any(slow in f.path.name for slow in SLOW))
    ]
    rest = [f for f in files if f.family not in ("attack", "valid")]
    rng.shuffle(rest)
    return keep + rest[: max(0, count - len(keep))]


# -- the watched runner -----------------------------------------------------------------------


@dataclass
class Outcome:
    path: str
    family: str = ""
    outcome: str = "pending"
    """converted, refused, crash or hang."""
    reason: str = ""
    seconds: float = 0.0
    peak_rss: int = 0


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    buffer: str = field(default="")


def _start_worker(out: Path) -> _Worker:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.hostile", "worker", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    return _Worker(process)


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        parent = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
    except psutil.Error:
        return 0


def _kill(worker: _Worker) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    for pipe in (worker.process.stdin, worker.process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def run_watched(  # noqa: PLR0912 - one loop watching one worker
    files: list[Hostile],
    out: Path,
    *,
    timeout: float = 30.0,
    recycle_rss: int = 512 * MiB,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Convert each file in a worker process; a file over ``timeout`` seconds is a hang.

    Between files, a worker holding more than ``recycle_rss`` (memory freed but kept by
    the allocator after a big file) is replaced, so a file's peak RSS is its own cost
    over a fresh worker's baseline, as in a process that converts it alone.
    """
    outcomes: list[Outcome] = []
    worker: _Worker | None = None
    try:
        for index, item in enumerate(files):
            if worker is not None and _tree_rss(worker.process.pid) > recycle_rss:
                _kill(worker)  # what one file may cost is measured from a fresh worker's baseline
                worker = None
            if worker is None or worker.process.poll() is not None:
                worker = _start_worker(out)
            outcome = Outcome(str(item.path), item.family)
            assert worker.process.stdin is not None
            assert worker.process.stdout is not None
            worker.process.stdin.write(f"{index}\t{item.path}\n")
            worker.process.stdin.flush()
            started = time.perf_counter()
            line = ""
            while True:
                outcome.peak_rss = max(outcome.peak_rss, _tree_rss(worker.process.pid))
                ready, _, _ = select.select([worker.process.stdout], [], [], 0.05)
                if ready:
                    line = worker.process.stdout.readline()
                    break
                if time.perf_counter() - started > timeout:
                    break
            outcome.seconds = round(time.perf_counter() - started, 3)
            if line:
                data = json.loads(line)
                outcome.outcome, outcome.reason = data["outcome"], data["reason"]
            else:
                dead = worker.process.poll()
                _kill(worker)
                worker = None
                if dead is None:
                    outcome.outcome, outcome.reason = "hang", f"still converting after {timeout:.0f} s"
                else:
                    outcome.outcome, outcome.reason = "crash", f"the worker died (exit {dead})"
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        if worker is not None:
            _kill(worker)
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    counts = Counter(o.outcome for o in outcomes)
    return {
        "files": len(outcomes),
        "converted": counts["converted"],
        "refused": counts["refused"],
        "tracebacks": counts["crash"],
        "hangs": counts["hang"],
        "max_seconds": max((o.seconds for o in outcomes), default=0.0),
        "peak_rss_mib": round(max((o.peak_rss for o in outcomes), default=0) / MiB, 1),
        "slowest": [
            [Path(o.path).name, o.seconds, o.outcome] for o in sorted(outcomes, key=lambda o: -o.seconds)[:5]
        ],
        "heaviest_mib": [
            [Path(o.path).name, round(o.peak_rss / MiB), o.outcome]
            for o in sorted(outcomes, key=lambda o: -o.peak_rss)[:5]
        ],
        "by_family": {
            family: dict(Counter(o.outcome for o in outcomes if o.family == family))
            for family in sorted({o.family for o in outcomes})
        },
    }


def _worker(out: Path) -> None:
    """Read ``index<TAB>path`` lines; convert each; answer one JSON line per file."""
    import shutil
    import traceback

    from lakegate.errors import LakegateError
    from lakegate.lake import convert

    for line in sys.stdin:
        index, _, path = line.rstrip("\n").partition("\t")
        target = out / index
        try:
            convert([Path(path)], target)
            answer = {"outcome": "converted", "reason": ""}
        except LakegateError as exc:
            answer = {"outcome": "refused", "reason": exc.message}
        except BaseException as exc:  # noqa: BLE001 - a traceback is what this hunts
            answer = {"outcome": "crash", "reason": "".join(traceback.format_exception(exc))[-2000:]}
        shutil.rmtree(target, ignore_errors=True)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        _worker(Path(sys.argv[2]))
