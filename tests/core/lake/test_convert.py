"""``lakegate.lake.convert``: naming, atomic writes, Delta output, several inputs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from lakegate.errors import InputError, LakegateError, ReaderError
from lakegate.lake import ConvertResult, convert, output_stem
from tests.core.formats.builders import write_xlsx

CSV = "id,name\n1,Ann\n2,Bob\n"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_output_names_are_sanitised_stems():
    assert output_stem(Path("data.csv.gz")) == "data"
    assert output_stem(Path("Ventes 2024 (été).xlsx")) == "Ventes_2024_ete"
    assert output_stem(Path("..csv")) == "table"


def test_result_fields_and_to_dict(tmp_path, csv_file):
    [result] = convert([csv_file], tmp_path / "out")
    assert isinstance(result, ConvertResult)
    doc = result.to_dict()
    assert doc["source"] == str(csv_file)
    assert doc["outputs"] == [str(tmp_path / "out" / "people.parquet")]
    assert doc["rows"] == 2
    assert doc["columns"] == 2
    assert doc["schema"] == {"people": {"id": "int64", "name": "string"}}
    assert doc["bytes_in"] == len(CSV)
    assert doc["bytes_out"] > 0
    assert doc["ratio"] == round(doc["bytes_in"] / doc["bytes_out"], 3)
    assert doc["seconds"] >= 0
    assert doc["warnings"] == []
    assert doc["tables"][0]["path"] == doc["outputs"][0]
    json.dumps(doc)


def test_rerunning_overwrites_the_output(tmp_path, csv_file):
    convert([csv_file], tmp_path / "out")
    csv_file.write_text("id,name\n3,Cy\n", encoding="utf-8")
    convert([csv_file], tmp_path / "out")
    assert pl.read_parquet(tmp_path / "out" / "people.parquet")["name"].to_list() == ["Cy"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["people.parquet"]


def test_two_inputs_with_the_same_stem_do_not_overwrite_each_other(tmp_path, csv_file):
    other = tmp_path / "b" / "people.csv"
    other.parent.mkdir()
    other.write_text("id\n9\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"output .*people\.parquet is also the output of .*people\.csv"):
        convert([csv_file, other], tmp_path / "out")
    assert pl.read_parquet(tmp_path / "out" / "people.parquet")["name"].to_list() == ["Ann", "Bob"]


def test_a_failure_leaves_no_output_and_no_scratch(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ReaderError, match="line 2: malformed JSON"):
        convert([bad], out)
    assert list(out.iterdir()) == []


def test_several_inputs_continue_past_a_bad_one_with_on_error(tmp_path, csv_file):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    missing = tmp_path / "missing.csv"
    errors: list[tuple[Path, LakegateError]] = []
    done: list[ConvertResult] = []
    results = convert(
        [bad, csv_file, missing],
        tmp_path / "out",
        on_error=lambda source, error: errors.append((source, error)),
        on_result=done.append,
    )
    assert [r.source for r in results] == [str(csv_file)]
    assert done == results
    assert [(source.name, error.message) for source, error in errors] == [
        ("empty.csv", f"{bad}: empty file"),
        ("missing.csv", f"{missing}: no such file"),
    ]


def test_multi_table_inputs_always_carry_the_table_name(tmp_path):
    src = write_xlsx(tmp_path / "one sheet.xlsx", {"Only": [["a"], [1]]})
    [result] = convert([src], tmp_path / "out")
    assert result.outputs == (str(tmp_path / "out" / "one_sheet__Only.parquet"),)
    assert result.schema == {"one_sheet__Only": {"a": "int64"}}


def test_delta_output_is_a_delta_table_and_reruns_add_a_version(tmp_path, csv_file):
    out = tmp_path / "out"
    [result] = convert([csv_file], out, format="delta")
    table_dir = out / "people"
    assert result.outputs == (str(table_dir),)
    table = DeltaTable(str(table_dir))
    assert table.version() == 0
    assert pl.read_delta(str(table_dir)).sort("id").to_dicts() == [
        {"id": 1, "name": "Ann"},
        {"id": 2, "name": "Bob"},
    ]
    assert result.bytes_out == sum(Path(u.removeprefix("file://")).stat().st_size for u in table.file_uris())
    csv_file.write_text("id,name\n3,Cy\n", encoding="utf-8")
    convert([csv_file], out, format="delta")
    assert DeltaTable(str(table_dir)).version() == 1
    assert pl.read_delta(str(table_dir))["name"].to_list() == ["Cy"]
    assert sorted(p.name for p in out.iterdir()) == ["people"]


def test_delta_stores_categoricals_as_text(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("color\n" + "red\ngreen\n" * 100, encoding="utf-8")
    [result] = convert([src], tmp_path / "out", format="delta")
    assert result.schema["c"] == {"color": "categorical"}
    frame = pl.read_delta(str(tmp_path / "out" / "c"))
    assert frame.schema["color"] == pl.String
    assert frame["color"][:2].to_list() == ["red", "green"]


def test_delta_refuses_to_replace_a_folder_that_is_not_a_table(tmp_path, csv_file):
    (tmp_path / "out" / "people").mkdir(parents=True)
    with pytest.raises(LakegateError, match="already exists and is not a Delta table"):
        convert([csv_file], tmp_path / "out", format="delta")


def test_bad_arguments(tmp_path, csv_file):
    with pytest.raises(InputError, match="unknown output format 'csv'"):
        convert([csv_file], tmp_path / "out", format="csv")  # type: ignore[arg-type]
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="output must be a folder"):
        convert([csv_file], tmp_path / "file")


def test_gzip_inputs_keep_their_stem(tmp_path):
    src = tmp_path / "logs.jsonl.gz"
    src.write_bytes(gzip.compress(b'{"a": 1}\n'))
    [result] = convert([src], tmp_path / "out")
    assert result.outputs == (str(tmp_path / "out" / "logs.parquet"),)
