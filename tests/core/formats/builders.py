"""Build small real files for reader tests: xlsx and ods (zip + XML), pdf (by hand), xls.

No spreadsheet or PDF writer is a runtime dependency, so these write the formats directly:
the minimal parts calamine and pdfium accept; legacy BIFF ``.xls`` comes from ``xlwt``
(a dev dependency), a real writer of that format; ``.xlsb`` has no writer available.
Cells are Python values: ``None`` (empty), ``str``, ``bool``, ``int``/``float``,
``datetime.date``/``datetime.datetime``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

Rows = Sequence[Sequence[Any]]

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serials are naive


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _xlsx_cell(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        serial = (dt.datetime.combine(value, dt.time()) - _EXCEL_EPOCH).days
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> Path:
    """Write ``{sheet name: rows}`` as an xlsx workbook (dates styled as dates)."""
    names = list(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, len(names) + 1)
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(names, 1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)
            )
            + f'<Relationship Id="rId{len(names) + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        z.writestr(
            "xl/styles.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
            '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
            '<xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
        for i, name in enumerate(names, 1):
            with z.open(f"xl/worksheets/sheet{i}.xml", "w") as sheet:
                sheet.write(
                    b'<?xml version="1.0" encoding="UTF-8"?>'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                for r, row in enumerate(sheets[name], 1):
                    cells = "".join(_xlsx_cell(f"{_col(c)}{r}", v) for c, v in enumerate(row))
                    if cells:
                        sheet.write(f'<row r="{r}">{cells}</row>'.encode())
                sheet.write(b"</sheetData></worksheet>")
    return path


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        text = "true" if value else "false"
        attrs = f'office:value-type="boolean" office:boolean-value="{text}"'
    elif isinstance(value, dt.date | dt.datetime):
        text = value.isoformat()
        attrs = f'office:value-type="date" office:date-value="{text}"'
    elif isinstance(value, int | float):
        text = repr(value)
        attrs = f'office:value-type="float" office:value="{text}"'
    else:
        text = escape(str(value))
        attrs = 'office:value-type="string"'
    return f"<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>"


def write_ods(path: Path, sheets: dict[str, Rows]) -> Path:
    """Write ``{sheet name: rows}`` as an OpenDocument spreadsheet."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join(
            "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows
        )
        + "</table:table>"
        for name, rows in sheets.items()
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
            zipfile.ZIP_DEFLATED,
        )
        z.writestr(
            "content.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
            f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>",
            zipfile.ZIP_DEFLATED,
        )
    return path


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_content(lines: Sequence[str], table: Rows | None) -> bytes:
    ops = []
    y = 760
    for line in lines:
        ops.append(f"BT /F1 11 Tf 56 {y} Td ({_pdf_text(line)}) Tj ET")
        y -= 16
    if table:
        x0, top, width, height = 56, y - 20, 110, 20
        n_rows, n_cols = len(table), max(len(r) for r in table)
        bottom = top - n_rows * height
        right = x0 + n_cols * width
        ops.extend(f"{x0} {top - r * height} m {right} {top - r * height} l S" for r in range(n_rows + 1))
        ops.extend(f"{x0 + c * width} {top} m {x0 + c * width} {bottom} l S" for c in range(n_cols + 1))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                if cell is not None:
                    ops.append(
                        f"BT /F1 10 Tf {x0 + c * width + 4} {top - (r + 1) * height + 6} Td "
                        f"({_pdf_text(str(cell))}) Tj ET"
                    )
    return "\n".join(ops).encode("latin-1")


def write_pdf(
    path: Path,
    pages: Sequence[tuple[Sequence[str], Rows | None]],
    *,
    user_password: str | None = None,
) -> Path:
    """Write a PDF whose pages hold text lines and an optional ruled table.

    With ``user_password`` the file carries a standard (RC4, 40-bit) security handler,
    so readers must ask for the password (the content itself is left in the clear).
    """
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font, then (page, content) pairs.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, (lines, table) in enumerate(pages):
        content = _page_content(lines, table)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    file_id = hashlib.md5(str(path).encode(), usedforsecurity=False).digest()
    trailer_extra = f"/ID [<{file_id.hex()}> <{file_id.hex()}>]"
    if user_password is not None:
        permissions = -44
        owner_key = hashlib.md5((b"owner" + _PAD)[:32], usedforsecurity=False).digest()[:5]
        user_padded = (user_password.encode("latin-1") + _PAD)[:32]
        o_value = _rc4(owner_key, user_padded)
        digest = hashlib.md5(
            user_padded + o_value + permissions.to_bytes(4, "little", signed=True) + file_id,
            usedforsecurity=False,
        ).digest()
        u_value = _rc4(digest[:5], _PAD)
        security = f"/Filter /Standard /V 1 /R 2 /O <{o_value.hex()}> /U <{u_value.hex()}> /P {permissions}"
        objects.append(f"<< {security} >>".encode())
        trailer_extra += f" /Encrypt {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra} >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_xls(path: Path, sheets: dict[str, Rows]) -> Path:
    """Write ``{sheet name: rows}`` as a BIFF8 ``.xls`` workbook with ``xlwt`` (dates styled as dates)."""
    import xlwt  # type: ignore[import-untyped]

    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    book = xlwt.Workbook()
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write(r, c, value, datetime_style)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def naive(*parts: int) -> dt.datetime:
    """A naive datetime: CSV, Excel and PDF values carry no timezone."""
    return dt.datetime(*parts)  # noqa: DTZ001
