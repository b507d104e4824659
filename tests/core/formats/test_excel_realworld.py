"""Workbooks as people leave them: chart sheets, error cells, columns of mixed types.

Fixtures are real files: xlsx from xlsxwriter (a real writer, with a chart sheet and
cached formula errors), xls from xlwt (BIFF error cells), ods from the builders (an
``.ods`` stores an error as its text).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from lakegate.cli import app
from lakegate.errors import ReaderError
from lakegate.lake import stage_file

from .builders import naive, write_ods, write_xlsx

runner = CliRunner()


def book_with_errors_and_a_chart(path: Path) -> Path:
    """Sheet "Data": errors in a number and a text column, dates mixed with a duration."""
    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    hours = book.add_format({"num_format": "[h]:mm:ss"})
    data = book.add_worksheet("Data")
    data.write_row(0, 0, ["id", "ratio", "name", "when"])
    for row in range(1, 7):
        data.write_number(row, 0, row)
        data.write_string(row, 2, f"n{row}")
    data.write_number(1, 1, 0.5)
    data.write_formula(2, 1, "=1/0", None, "#DIV/0!")
    data.write_formula(3, 1, "=NA()", None, "#N/A")
    data.write_number(4, 1, 2.5)
    data.write_formula(5, 1, "=NOPE()", None, "#NAME?")
    data.write_formula(6, 1, "=A1+B1", None, "#VALUE!")
    data.write_formula(3, 2, "=REF", None, "#REF!")
    data.write_datetime(1, 3, dt.datetime(2024, 1, 2), day)  # noqa: DTZ001
    data.write_number(2, 3, 1.5, hours)  # 36 hours
    data.write_datetime(3, 3, dt.datetime(2024, 1, 4), day)  # noqa: DTZ001
    chart = book.add_chart({"type": "line"})
    chart.add_series({"values": "=Data!$A$2:$A$7"})
    book.add_chartsheet("Chart").set_chart(chart)
    rates = book.add_worksheet("Rates")
    rates.write_row(0, 0, ["code", "rate"])
    rates.write_row(1, 0, ["EUR", 1.1])
    book.close()
    return path


def test_error_cells_are_nulls_counted_per_column_and_the_chart_sheet_is_skipped(tmp_path, convert_one):
    result, frames = convert_one(book_with_errors_and_a_chart(tmp_path / "book.xlsx"))
    assert list(frames) == ["book__Data", "book__Rates"]
    data = frames["book__Data"]
    assert data["ratio"].to_list() == [0.5, None, None, 2.5, None, None]
    assert data["name"].to_list() == ["n1", "n2", None, "n4", "n5", "n6"]
    assert result.schema["book__Data"]["ratio"] == "float64"
    [table, rates] = result.tables
    assert table.error_cells == {"ratio": 4, "name": 1}
    assert rates.error_cells == {}
    kinds = "#DIV/0! x1, #N/A x1, #NAME? x1, #VALUE! x1"
    assert f"book__Data: column 'ratio': 4 error cell(s) read as null ({kinds})" in result.warnings
    assert "book__Data: column 'name': 1 error cell(s) read as null (#REF! x1)" in result.warnings
    assert "book__Rates: skipped chart sheet(s): Chart" in result.warnings


def test_a_column_of_dates_and_durations_is_text_with_a_warning(tmp_path, convert_one):
    result, frames = convert_one(book_with_errors_and_a_chart(tmp_path / "book.xlsx"))
    assert result.schema["book__Data"]["when"] == "string"
    assert frames["book__Data"]["when"].to_list() == [
        "2024-01-02",
        "36:00:00",
        "2024-01-04",
        None,
        None,
        None,
    ]
    assert any(
        w.startswith("book__Data: column 'when': cells of several types (") and w.endswith("); read as text")
        for w in result.warnings
    )


def test_a_column_of_numbers_and_text_keeps_the_text(tmp_path, convert_one):
    book = xlsxwriter.Workbook(str(tmp_path / "mix.xlsx"))
    sheet = book.add_worksheet("S")
    sheet.write_column(0, 0, ["amount", 1.5, "n/a", 2])
    sheet.write_column(0, 1, ["code", "A1", 7, "B2"])
    book.close()
    result, frames = convert_one(tmp_path / "mix.xlsx")
    assert frames["mix__S"]["amount"].to_list() == ["1.5", "n/a", "2"]
    assert frames["mix__S"]["code"].to_list() == ["A1", "7", "B2"]
    assert "mix__S: column 'amount': values of several types; read as text" in result.warnings
    assert "mix__S: column 'code': cells of several types ({Float, String}); read as text" in result.warnings


def test_whole_and_fractional_numbers_in_an_xls_are_one_float_column(tmp_path, convert_one):
    import xlwt  # type: ignore[import-untyped]

    book = xlwt.Workbook()
    sheet = book.add_sheet("S")
    for row, value in enumerate(["v", 1, 2.5, 3]):
        sheet.write(row, 0, value)
    book.save(str(tmp_path / "n.xls"))
    result, frames = convert_one(tmp_path / "n.xls")
    assert frames["n__S"]["v"].to_list() == [1.0, 2.5, 3.0]
    assert result.warnings == ()


def test_xls_error_cells_are_counted(tmp_path, convert_one):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("S")
    sheet.write(0, 0, "x")
    sheet.write(0, 1, "label")
    sheet.write(1, 0, 1.5)
    sheet.row(2).set_cell_error(0, "#DIV/0!")
    sheet.row(3).set_cell_error(0, 0x2A)  # #N/A (xlwt spells it "#N/A!")
    sheet.row(4).set_cell_error(0, "#NUM!")
    for row in range(1, 5):
        sheet.write(row, 1, f"r{row}")
    book.save(str(tmp_path / "e.xls"))
    result, frames = convert_one(tmp_path / "e.xls")
    assert frames["e__S"]["x"].to_list() == [1.5, None, None, None]
    assert result.tables[0].error_cells == {"x": 3}
    assert result.warnings == (
        "e__S: column 'x': 3 error cell(s) read as null (#DIV/0! x1, #N/A x1, #NUM! x1)",
    )


def test_ods_error_texts_are_error_cells(tmp_path, convert_one):
    src = write_ods(
        tmp_path / "calc.ods", {"S": [["v", "w"], [1.5, "a"], ["#DIV/0!", "Err:502"], [2.5, "#N/A"]]}
    )
    result, frames = convert_one(src)
    assert frames["calc__S"]["v"].to_list() == [1.5, None, 2.5]
    assert frames["calc__S"]["w"].to_list() == ["a", None, None]
    assert result.tables[0].error_cells == {"v": 1, "w": 2}
    assert result.schema["calc__S"]["v"] == "float64"


def test_an_unreadable_sheet_is_skipped_with_a_warning(tmp_path, convert_one):
    good = write_xlsx(tmp_path / "good.xlsx", {"A": [["id"], [1]], "B": [["id"], [2]]})
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(
                item, b"<worksheet><sheetData><row><c r=" if item.filename.endswith("sheet2.xml") else data
            )
    result, frames = convert_one(broken)
    assert list(frames) == ["broken__A"]
    [warning] = result.warnings
    assert warning.startswith("broken__A: skipped unreadable sheet(s): 'B' (")
    with pytest.raises(ReaderError, match=r"broken\.xlsx: sheet 'B'"):
        convert_one(broken, sheet="B")


def test_version_stats_carry_error_cells(tmp_path):
    src = tmp_path / "one.xlsx"
    shutil.copy(book_with_errors_and_a_chart(tmp_path / "book.xlsx"), src)
    staged = stage_file(src, tmp_path / "scratch", sheet="Data")
    assert staged.profile["ratio"]["error_cells"] == 4
    assert staged.profile["ratio"]["nulls"] == 4
    assert staged.profile["name"]["error_cells"] == 1
    assert staged.profile["id"]["error_cells"] == 0
    csv = tmp_path / "plain.csv"
    csv.write_text("a\n1\n", encoding="utf-8")
    assert "error_cells" not in stage_file(csv, tmp_path / "scratch2").profile["a"]


def test_cli_json_reports_error_cells_per_table(tmp_path):
    src = book_with_errors_and_a_chart(tmp_path / "book.xlsx")
    result = runner.invoke(app, ["convert", str(src), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)["results"]
    assert [t["error_cells"] for t in item["tables"]] == [{"ratio": 4, "name": 1}, {}]


def test_existing_shapes_still_read(tmp_path, convert_one):
    src = write_xlsx(tmp_path / "t.xlsx", {"S": [["at", "n"], [naive(2024, 1, 2, 3, 4), 1]]})
    result, frames = convert_one(src)
    assert frames["t__S"].rows() == [(naive(2024, 1, 2, 3, 4), 1)]
    assert result.tables[0].error_cells == {}
