"""CSV/TSV/TXT: dialect and encoding sniffing, headers, types, ragged rows, bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from lakegate.errors import ReaderError
from lakegate.formats.csv import sniff

from .builders import naive


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_it_reads_a_plain_csv_with_types(tmp_path, convert_one):
    src = write(
        tmp_path / "sales.csv",
        "id,price,ok,day,at,name,zip\n"
        "1,2.5,true,2024-01-31,2024-01-31 10:15:00,Ann,01234\n"
        "2,-3,false,2024-02-29,2024-02-29 23:59:59,Bob,99999\n",
    )
    result, frames = convert_one(src)
    frame = frames["sales"]
    assert result.rows == 2
    assert result.columns == 7
    assert result.schema["sales"] == {
        "id": "int64",
        "price": "float64",
        "ok": "boolean",
        "day": "date",
        "at": "datetime[us]",
        "name": "string",
        "zip": "string",
    }
    assert frame.row(0) == (
        1,
        2.5,
        True,
        dt.date(2024, 1, 31),
        naive(2024, 1, 31, 10, 15),
        "Ann",
        "01234",
    )
    assert frame["price"].to_list() == [2.5, -3.0]
    assert result.outputs == (str(tmp_path / "out" / "sales.parquet"),)
    assert result.bytes_in == src.stat().st_size
    assert result.bytes_out == (tmp_path / "out" / "sales.parquet").stat().st_size
    assert result.ratio == round(result.bytes_in / result.bytes_out, 3)
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("text", "suffix", "separator"),
    [
        ("a;b;c\n1;x;2,5\n2;y;3,25\n", ".csv", ";"),
        ("a\tb\tc\n1\tx\t2.5\n2\ty\t3.25\n", ".tsv", "\t"),
        ("a|b|c\n1|x|2.5\n2|y|3.25\n", ".txt", "|"),
        ("a,b,c\n1,x,2.5\n2,y,3.25\n", ".csv", ","),
    ],
)
def test_it_sniffs_the_separator_and_a_decimal_comma(tmp_path, convert_one, text, suffix, separator):
    assert sniff(text).separator == separator
    _, frames = convert_one(write(tmp_path / f"data{suffix}", text))
    frame = frames["data"]
    assert frame.columns == ["a", "b", "c"]
    assert frame["a"].to_list() == [1, 2]
    assert frame["b"].to_list() == ["x", "y"]
    assert frame["c"].to_list() == [2.5, 3.25]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252", "utf-8"])
def test_it_reads_each_text_encoding(tmp_path, convert_one, encoding):
    src = write(tmp_path / "people.csv", "name,city\nJosé,Zürich\nÅsa,Malmö\nRenée,Besançon\n", encoding)
    _, frames = convert_one(src)
    frame = frames["people"]
    assert frame.columns == ["name", "city"]
    assert frame["name"].to_list() == ["José", "Åsa", "Renée"]
    assert frame["city"].to_list() == ["Zürich", "Malmö", "Besançon"]


def test_quoted_separators_and_newlines_stay_in_their_field(tmp_path, convert_one):
    src = write(tmp_path / "notes.csv", 'id,note\n1,"hello, world"\n2,"two\nlines"\n3,"say ""hi"""\n')
    result, frames = convert_one(src)
    assert frames["notes"]["note"].to_list() == ["hello, world", "two\nlines", 'say "hi"']
    assert result.warnings == ()


def test_a_file_without_header_gets_numbered_columns(tmp_path, convert_one):
    _, frames = convert_one(write(tmp_path / "raw.csv", "1,2.5,x\n2,3.5,y\n"))
    frame = frames["raw"]
    assert frame.columns == ["column_1", "column_2", "column_3"]
    assert frame["column_1"].to_list() == [1, 2]
    assert frame["column_3"].to_list() == ["x", "y"]


def test_ragged_rows_are_kept_and_reported_with_line_numbers(tmp_path, convert_one):
    src = write(tmp_path / "ragged.csv", 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n"x\ny",1,2\n10,,\n11\n')
    result, frames = convert_one(src)
    frame = frames["ragged"]
    assert frame["a"].to_list() == ["1", "4", "6", "x\ny", "10", "11"]
    assert frame["c"].to_list() == [3, None, 8, 2, None, None]
    [warning] = result.warnings
    # Line 3 is short, line 4 long; the quoted record spans lines 5-6; line 8 is short.
    assert warning.startswith("3 ragged row(s) without exactly 3 fields")
    assert warning.endswith("first at line(s) 3, 4, 8")


def test_blank_lines_in_a_multi_column_file_are_skipped_and_reported(tmp_path, convert_one):
    # DuckDB, pandas and pyarrow skip blank lines; polars alone reads them as rows of nulls.
    result, frames = convert_one(write(tmp_path / "gaps.csv", "\na,b\n1,2\n\n3,4\n,\n\n"))
    assert frames["gaps"]["a"].to_list() == [1, 3, None]  # "," is a row of two empty cells
    assert result.rows == 3
    assert result.warnings == ("skipped 2 blank line(s); first at line(s) 4, 7",)


def test_blank_lines_in_a_one_column_file_are_empty_values(tmp_path, convert_one):
    result, frames = convert_one(write(tmp_path / "one.csv", "a\n1\n\n3\n"))
    assert frames["one"]["a"].to_list() == [1, None, 3]
    assert result.warnings == ()


def test_leading_zero_codes_stay_text_and_categoricals_are_found(tmp_path, convert_one):
    rows = "".join(f"{i:05d},{['red', 'green', 'blue'][i % 3]},{i}\n" for i in range(300))
    result, frames = convert_one(write(tmp_path / "codes.csv", "code,color,n\n" + rows))
    assert result.schema["codes"] == {"code": "string", "color": "categorical", "n": "int64"}
    assert frames["codes"]["code"][:2].to_list() == ["00000", "00001"]
    assert frames["codes"]["color"][:3].to_list() == ["red", "green", "blue"]


def test_null_tokens_are_nulls(tmp_path, convert_one):
    _, frames = convert_one(write(tmp_path / "n.csv", "a,b\n1,NULL\nN/A,x\n3,\n"))
    assert frames["n"]["a"].to_list() == [1, None, 3]
    assert frames["n"]["b"].to_list() == [None, "x", None]


def test_a_value_past_the_sample_widens_its_column(tmp_path, convert_one):
    body = "".join(f"{i},{i}\n" for i in range(10_050))
    src = write(tmp_path / "late.csv", "a,b\n" + body + "2.5,oops\n")
    result, frames = convert_one(src)
    frame = frames["late"]
    assert result.schema["late"] == {"a": "float64", "b": "string"}
    assert frame["a"][-1] == 2.5
    assert frame["b"][-1] == "oops"
    assert frame["b"][0] == "0"
    assert result.rows == 10_051
    assert any("'a': value '2.5' past the sample is not int; read as float" in w for w in result.warnings)
    assert any("'b': value 'oops' past the sample is not int; read as string" in w for w in result.warnings)


def test_overrides_force_a_type(tmp_path, convert_one):
    src = write(tmp_path / "o.csv", "id,when,flag\n7,03.04.2024,yes\n8,05.06.2024,no\n")
    result, frames = convert_one(src, overrides={"id": "string", "when": "date:%d.%m.%Y", "ghost": "int"})
    assert result.schema["o"] == {"id": "string", "when": "date", "flag": "boolean"}
    assert frames["o"]["id"].to_list() == ["7", "8"]
    assert frames["o"]["when"].to_list() == [dt.date(2024, 4, 3), dt.date(2024, 6, 5)]
    assert frames["o"]["flag"].to_list() == [True, False]
    assert result.warnings == ("override for unknown column 'ghost' ignored",)


def test_a_value_that_does_not_fit_an_override_is_an_error(tmp_path, convert_one):
    src = write(tmp_path / "o.csv", "id,name\n1,a\nx2,b\n")
    with pytest.raises(ReaderError, match=r"o\.csv: column 'id': value 'x2' is not a valid int \(override\)"):
        convert_one(src, overrides={"id": "int"})
    assert not (tmp_path / "out" / "o.parquet").exists()


def test_invalid_utf8_past_the_head_falls_back_to_cp1252(tmp_path, convert_one):
    head = "id,text\n" + "".join(f"{i},plain ascii text\n" for i in range(250_000))
    src = tmp_path / "late.csv"
    src.write_bytes(head.encode() + "250000,café\n".encode("cp1252"))
    assert src.stat().st_size > 4 * 1024 * 1024
    result, frames = convert_one(src)
    assert frames["late"]["text"][-1] == "café"
    assert "not valid UTF-8 past the sampled head; read as cp1252" in result.warnings


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file (no data, only blank lines)"),
        (bytes(range(256)) * 8, "binary data, not text (NUL bytes)"),
        (b"\xff\xfea\x00,\x00b\x00\n\x00" + b"\x00\xdc" * 4, "not valid utf-16 text"),
    ],
)
def test_bad_text_is_a_reader_error(tmp_path, convert_one, content, reason):
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    with pytest.raises(ReaderError) as caught:
        convert_one(src)
    assert caught.value.path == str(src)
    assert caught.value.reason.startswith(reason)


def test_a_header_only_file_gives_an_empty_table(tmp_path, convert_one):
    result, frames = convert_one(write(tmp_path / "h.csv", "a,b\n"))
    assert result.rows == 0
    assert frames["h"].columns == ["a", "b"]
    assert frames["h"].schema == pl.Schema({"a": pl.String, "b": pl.String})


def test_blanks_around_values_are_stripped_for_typed_columns(tmp_path, convert_one):
    body = "".join(f"{i},2024-01-{i % 28 + 1:02d}\n" for i in range(10_050))
    src = write(tmp_path / "blanks.csv", "n,day\n 1 , 2024-02-03 \n" + body + "7, 2024-03-04\n")
    result, frames = convert_one(src)
    assert result.schema["blanks"] == {"n": "int64", "day": "date"}
    assert frames["blanks"]["n"][0] == 1
    assert frames["blanks"]["day"][0] == dt.date(2024, 2, 3)
    assert frames["blanks"]["day"][-1] == dt.date(2024, 3, 4)
    assert result.warnings == ()
