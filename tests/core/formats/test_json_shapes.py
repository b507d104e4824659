"""JSON shapes other tools write: empty documents, bare values, empty objects, late keys, NULs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate.cli import app
from lakegate.formats import ReadOptions, read_tables

runner = CliRunner()


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def lines(path: Path, records: list[object]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


@pytest.mark.parametrize(
    ("name", "content", "warning"),
    [
        ("e.json", "", "empty file: no records, an empty table"),
        ("e.json", " \n\t\n", "empty file (only blanks): no records, an empty table"),
        ("e.json", "[]", "an empty array: no records, an empty table"),
        ("e.json", '{"data": []}', "an empty array: no records, an empty table"),
        ("e.json", "{}", "the records hold no keys: an empty table"),
        ("e.jsonl", "", "empty file: no records, an empty table"),
        ("e.jsonl", "\n\n", "only blank lines: no records, an empty table"),
    ],
    ids=[
        "empty-json",
        "blank-json",
        "empty-array",
        "empty-list-under-key",
        "empty-object",
        "empty-jsonl",
        "blank-jsonl",
    ],
)
def test_empty_documents_are_empty_tables_with_a_warning(tmp_path, convert_one, name, content, warning):
    result, frames = convert_one(write(tmp_path / name, content))
    assert result.rows == 0
    assert frames["e"].shape == (0, 0)
    assert result.warnings == (warning,)


@pytest.mark.parametrize(
    ("content", "values", "dtype"),
    [
        ("[1, 2, 3]", [1, 2, 3], "int64"),
        ('["a", "b"]', ["a", "b"], "string"),
        ("[[1, 2], [3]]", [[1, 2], [3]], "list[int64]"),
        ("[1.5, 2]", [1.5, 2.0], "float64"),
    ],
    ids=["numbers", "strings", "arrays", "int-and-float"],
)
def test_an_array_of_values_is_one_column_named_value(tmp_path, convert_one, content, values, dtype):
    result, frames = convert_one(write(tmp_path / "v.json", content))
    assert frames["v"]["value"].to_list() == values
    assert result.schema["v"] == {"value": dtype}
    assert "an array of values, not records: read as one column 'value'" in result.warnings


def test_values_mixed_with_records_go_to_column_value(tmp_path, convert_one):
    result, frames = convert_one(write(tmp_path / "m.json", '[{"a": 1}, 7, {"a": 2}]'))
    assert frames["m"].to_dicts() == [
        {"a": 1, "value": None},
        {"a": None, "value": 7},
        {"a": 2, "value": None},
    ]
    assert result.warnings == ("1 element(s) are not records (objects): read into column 'value'",)


def test_a_single_scalar_document_is_one_row(tmp_path, convert_one):
    result, frames = convert_one(write(tmp_path / "s.json", '"just a string"'))
    assert frames["s"].to_dicts() == [{"value": "just a string"}]
    assert result.warnings == ("a single value, not records: read as one row of column 'value'",)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_keys_holding_only_empty_objects_give_no_column(tmp_path, convert_one, suffix):
    records = [
        {"a": 1, "meta": {}, "deep": {"x": 1, "none": {}}},
        {"a": 2, "meta": {}, "deep": {"x": 2, "none": {}}},
    ]
    src = write(tmp_path / f"o{suffix}", json.dumps(records) if suffix == ".json" else "")
    if suffix == ".jsonl":
        lines(src, records)
    result, frames = convert_one(src)
    assert frames["o"].to_dicts() == [{"a": 1, "deep.x": 1}, {"a": 2, "deep.x": 2}]
    assert "key 'meta' holds only empty objects ({}): no column" in result.warnings
    assert "key 'deep.none' holds only empty objects ({}): no column" in result.warnings


def test_an_empty_object_in_the_sample_that_fills_later_is_a_column(tmp_path, convert_one):
    records = [{"a": i, "m": {}} for i in range(6_000)] + [{"a": 0, "m": {"k": "late"}}]
    result, frames = convert_one(lines(tmp_path / "f.jsonl", records))
    assert frames["f"]["m.k"][-1] == "late"
    assert frames["f"]["m.k"].null_count() == 6_000
    assert result.warnings == ("1 key(s) past the sample widened the schema: m.k",)


def test_arrays_of_empty_objects_are_kept_as_json_text(tmp_path, convert_one):
    result, frames = convert_one(lines(tmp_path / "l.jsonl", [{"a": [{}, {}]}, {"a": []}]))
    assert frames["l"]["a"].to_list() == ["[{}, {}]", "[]"]
    assert "key 'a' holds arrays of empty objects: read as JSON text" in result.warnings


def test_a_key_only_on_one_late_line_widens_the_schema(tmp_path, convert_one):
    records: list[dict[str, object]] = [{"id": i, "user": {"name": f"u{i}"}} for i in range(200_000)]
    records[123_456] = {"id": 123_456, "user": {"name": "x", "vip": True}, "coupon": "SAVE10"}
    src = lines(tmp_path / "late.jsonl", records)
    tables = read_tables(src, ReadOptions(work_dir=tmp_path))
    try:
        [table] = list(tables)
        assert "coupon" not in table.frame.collect_schema()  # the sample did not see it
    finally:
        tables.close()
    result, frames = convert_one(src)
    frame = frames["late"]
    assert result.rows == 200_000
    assert frame["coupon"].to_list()[123_456] == "SAVE10"
    assert frame["user.vip"].to_list()[123_456] is True
    assert frame["coupon"].null_count() == 199_999
    assert result.warnings == ("2 key(s) past the sample widened the schema: user.vip, coupon",)


def test_a_json_document_padded_with_nuls_is_read(tmp_path, convert_one):
    result, frames = convert_one(write(tmp_path / "p.json", b'[{"a": 1}, {"a": 2}]\n' + b"\x00" * 300))
    assert frames["p"]["a"].to_list() == [1, 2]
    result, frames = convert_one(write(tmp_path / "q.jsonl", b'{"a": 1}\n{"a": 2}\n' + b"\x00" * 300))
    assert frames["q"]["a"].to_list() == [1, 2]
    assert result.warnings == ("dropped 300 NUL byte(s) (padding)",)


def test_cli_converts_edge_shapes_with_warnings_and_no_error(tmp_path):
    empty = write(tmp_path / "empty.json", "[]")
    values = write(tmp_path / "values.json", "[1, 2]")
    result = runner.invoke(app, ["convert", str(empty), str(values), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["errors"] == []
    assert [item["rows"] for item in doc["results"]] == [0, 2]
    assert doc["results"][0]["warnings"] == ["an empty array: no records, an empty table"]
    assert pl.read_parquet(doc["results"][1]["outputs"][0])["value"].to_list() == [1, 2]
