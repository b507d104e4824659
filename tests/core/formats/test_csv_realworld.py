"""CSV files as other tools write them: escapes, line ends, BOMs, NULs, blank lines, bad quoting.

Each case is checked against what DuckDB reads where DuckDB reads it (the row counts are
the point), through ``convert`` and, for errors, through ``lakegate convert``.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate.cli import app
from lakegate.errors import ReaderError
from lakegate.formats.csv import sniff

runner = CliRunner()


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def duckdb_rows(path: Path) -> int:
    return int(duckdb.sql(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0])


# -- backslash escapes ----------------------------------------------------------------------


def test_backslash_escaped_quotes_are_read_as_escapes(tmp_path, convert_one):
    src = write(tmp_path / "esc.csv", 'id,text,n\n1,"he said \\"hi\\", twice",2\n2,"a \\\\ b",3\n3,plain,4\n')
    result, frames = convert_one(src)
    frame = frames["esc"]
    assert frame["text"].to_list() == ['he said "hi", twice', "a \\ b", "plain"]
    assert frame["n"].to_list() == [2, 3, 4]
    assert result.rows == duckdb_rows(src) == 3
    assert result.warnings == (
        "quotes escaped with a backslash (\\\"): read as escapes, as Python's csv reads them",
    )


def test_a_trailing_backslash_in_an_rfc_file_stays_a_backslash(tmp_path, convert_one):
    src = write(tmp_path / "paths.csv", 'path,n\n"C:\\dir\\",1\n"say ""hi""",2\n')
    assert sniff(src.read_text(encoding="utf-8")).escape is None
    result, frames = convert_one(src)
    assert frames["paths"]["path"].to_list() == ["C:\\dir\\", 'say "hi"']
    assert result.warnings == ()


def test_an_escaped_file_with_a_quote_never_closed_names_the_line(tmp_path, convert_one):
    src = write(tmp_path / "open.csv", 'a,b\n1,"x \\"y\\""\n2,"never closed\n3,z\n')
    with pytest.raises(ReaderError, match=r"open\.csv: line 4: a quoted field is never closed"):
        convert_one(src)


# -- header / row width ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rows", "first"),
    [
        ("a,b\n1,2,3,4\n5,6\n", [(1, 2), (5, 6)], 2),  # first data row longer than the header
        ("a,b,c\n1,2\n3,4,5\n", [(1, 2, None), (3, 4, 5)], 2),  # first data row shorter
    ],
    ids=["extra-columns", "missing-columns"],
)
def test_a_first_row_wider_or_narrower_than_the_header_is_a_ragged_row(
    tmp_path, convert_one, text, rows, first
):
    result, frames = convert_one(write(tmp_path / "w.csv", text))
    assert frames["w"].rows() == rows
    [warning] = result.warnings
    assert warning.startswith("1 ragged row(s)")
    assert warning.endswith(f"first at line(s) {first}")


# -- line ends, BOMs, Unicode names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fixed"),
    [
        (b"a,b\n1,2\n3,4", 0),  # no newline after the last line
        (b"a,b\r\n1,2\r\n3,4\r\n", 0),
        (b"a,b\r1,2\r3,4\r", 3),  # old Mac
        (b"a,b\r\n1,2\n3,4\r", 1),  # mixed (DuckDB refuses to sniff it)
        (b"\xef\xbb\xbfa,b\n1,2\n3,4\n", 0),
    ],
    ids=["no-final-newline", "crlf", "cr", "mixed", "bom"],
)
def test_line_ends_and_boms_give_the_same_rows(tmp_path, convert_one, data, fixed):
    src = write(tmp_path / "e.csv", data)
    result, frames = convert_one(src)
    assert frames["e"].rows() == [(1, 2), (3, 4)]
    assert frames["e"].columns == ["a", "b"]
    if fixed:
        assert result.warnings == (
            f"{fixed} line(s) ended by a lone carriage return (\\r): read as line ends",
        )
    else:
        assert result.warnings == ()
        assert duckdb_rows(src) == 2


def test_a_carriage_return_inside_quotes_stays_in_the_value(tmp_path, convert_one):
    _, frames = convert_one(write(tmp_path / "q.csv", b'a,b\r1,"x\ry"\r2,z\r'))
    assert frames["q"]["b"].to_list() == ["x\ry", "z"]


def test_lone_carriage_returns_past_the_head_are_line_ends_too(tmp_path, convert_one):
    head = "".join(f"{i},x{i}\n" for i in range(300_000))
    src = write(tmp_path / "late.csv", "n,s\n" + head + "300000,a\r300001,b\r")
    assert src.stat().st_size > 4 * 1024 * 1024
    result, frames = convert_one(src)
    assert result.rows == 300_002
    assert frames["late"]["s"][-2:].to_list() == ["a", "b"]
    assert "2 line(s) ended by a lone carriage return (\\r): read as line ends" in result.warnings


def test_header_names_are_nfc(tmp_path, convert_one):
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    _, frames = convert_one(write(tmp_path / "u.csv", f"{decomposed},cafe\n1,2\n"))
    assert frames["u"].columns == ["café", "cafe"]
    both = write(tmp_path / "v.csv", f"{decomposed},café\n1,2\n")
    _, frames = convert_one(both)
    assert frames["v"].columns == ["café", "café_2"]


# -- blank lines ------------------------------------------------------------------------------


def test_blank_lines_match_duckdb(tmp_path, convert_one):
    src = write(tmp_path / "b.csv", "a,b\n1,2\n\n3,4\n\n5,6\n\n\n")
    result, frames = convert_one(src)
    assert frames["b"].rows() == [(1, 2), (3, 4), (5, 6)]
    assert result.rows == duckdb_rows(src) == 3
    assert result.warnings == ("skipped 4 blank line(s); first at line(s) 3, 5, 7, 8",)


def test_blank_lines_before_the_header_and_with_crlf_are_skipped(tmp_path, convert_one):
    # DuckDB cannot sniff this one; the rule is the same: a blank line is not a record.
    src = write(tmp_path / "c.csv", "\r\na,b\r\n1,2\r\n\r\n3,4\r\n")
    result, frames = convert_one(src)
    assert frames["c"].rows() == [(1, 2), (3, 4)]
    assert result.warnings == ("skipped 1 blank line(s); first at line(s) 4",)


# -- NUL bytes ------------------------------------------------------------------------------


def test_a_csv_padded_with_nuls_is_read(tmp_path, convert_one):
    src = write(tmp_path / "pad.csv", b"a,b\n1,2\n3,4\n" + b"\x00" * 5_000)
    result, frames = convert_one(src)
    assert frames["pad"].rows() == [(1, 2), (3, 4)]
    assert result.warnings == ("dropped 5000 NUL byte(s) (padding)",)


def test_nuls_past_the_head_are_found_and_dropped(tmp_path, convert_one):
    body = "".join(f"{i},v{i}\n" for i in range(400_000))
    middle = b"\x00" * 10
    src = write(
        tmp_path / "mid.csv", b"n,s\n" + body.encode() + b"400000,a" + middle + b"b\n" + body[:50].encode()
    )
    assert src.stat().st_size > 4 * 1024 * 1024
    result, frames = convert_one(src)
    assert frames["mid"]["s"][400_000] == "ab"
    assert "dropped 10 NUL byte(s) (padding)" in result.warnings


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 40, b"\x00" * 9_000, b"a,b\n" + b"\x00\x00\x01" * 3_000],
    ids=["random-binary", "only-nuls", "mostly-nuls"],
)
def test_mostly_nul_or_control_bytes_is_binary(tmp_path, convert_one, data):
    src = write(tmp_path / "bin.csv", data)
    with pytest.raises(ReaderError, match=r"binary data, not text \(NUL bytes"):
        convert_one(src)


def test_a_cp1252_tail_after_a_long_ascii_head_is_read(tmp_path, convert_one):
    body = "".join(f"{i},plain\n" for i in range(20_000))
    src = write(tmp_path / "tail.csv", ("n,s\n" + body).encode() + "20000,naïve café\n".encode("cp1252"))
    result, frames = convert_one(src)
    assert frames["tail"]["s"][-1] == "naïve café"
    assert result.rows == 20_001


# -- failures: one line, the file and the line -------------------------------------------------


def test_an_unclosed_quote_names_the_line(tmp_path, convert_one):
    src = write(tmp_path / "open.csv", 'a,b\n1,x\n2,"y\n3,z\n4,w\n')
    with pytest.raises(ReaderError, match=r"open\.csv: line 3: a quoted field is never closed"):
        convert_one(src)


def test_an_override_that_does_not_fit_names_the_line(tmp_path, convert_one):
    src = write(tmp_path / "o.csv", 'id,note\n1,"two\nlines"\n2,b\nx3,c\n')
    with pytest.raises(
        ReaderError, match=r"o\.csv: column 'id': value 'x3' is not a valid int \(override\) at line 5"
    ):
        convert_one(src, overrides={"id": "int"})


def test_an_integer_past_64_bits_widens_to_text_not_float(tmp_path, convert_one):
    body = "".join(f"{i}\n" for i in range(10_050))
    result, frames = convert_one(
        write(tmp_path / "big.csv", "id\n" + body + "123456789012345678901234567890\n")
    )
    assert result.schema["big"] == {"id": "string"}
    assert frames["big"]["id"][-1] == "123456789012345678901234567890"
    assert frames["big"]["id"][0] == "0"


def test_cli_failures_are_one_line_naming_file_and_line(tmp_path):
    bad = write(tmp_path / "open.csv", 'a,b\n1,"x\n')
    binary = write(tmp_path / "bin.csv", bytes(range(256)) * 40)
    good = write(tmp_path / "esc.csv", 'a,b\n1,"q \\"x\\""\n')
    result = runner.invoke(
        app, ["convert", str(bad), str(binary), str(good), "-o", str(tmp_path / "out"), "--json"]
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [error["message"] for error in doc["errors"]] == [
        f"{bad}: line 2: a quoted field is never closed",
        f"{binary}: binary data, not text (NUL bytes): 10% of the first 64 KiB are NUL or control bytes",
    ]
    assert len(result.stderr.splitlines()) == 2
    assert "Traceback" not in result.output
    [item] = doc["results"]
    assert pl.read_parquet(item["outputs"][0])["b"].to_list() == ['q "x"']
