"""dataset_ingest: versions, dedupe, schema evolution, quarantine, retry, time travel."""

from __future__ import annotations

import json

import polars as pl
import pytest
from django.conf import settings

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate.lake import restore_to, write_batch
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
from lakegate_server.datasets.selectors import dataset_export, file_format, savings_stats, version_get
from lakegate_server.datasets.services import QuarantinedError
from lakegate_server.flow import ingest_file, quarantine_retry

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER = "id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n3,,Oslo\n"


def test_each_file_becomes_a_version_with_stats(csv_file):
    first = ingest_file(config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test")
    assert not first.duplicate
    v1 = first.version
    assert (v1.number, v1.rows, v1.total_rows, v1.source_name) == (1, 3, 3, "w1.csv")
    assert v1.schema == {"id": "int64", "temp": "float64", "city": "string"}
    assert v1.table_schema == {"id": "int", "temp": "float", "city": "string"}
    temp = v1.stats["temp"]
    assert temp["nulls"] == 1
    assert temp["null_pct"] == pytest.approx(33.3333, abs=1e-3)
    assert (temp["min"], temp["max"]) == (20.5, 22.1)
    assert temp["mean"] == pytest.approx(21.3)
    assert len(temp["quantiles"]) == 101
    assert sum(temp["histogram"]["counts"]) == 2
    assert v1.stats["city"]["categories"]["counts"] == {"Oslo": 2, "Rome": 1}

    second = ingest_file(
        config=project(),
        dataset="weather",
        path=csv_file("w2.csv", "id,temp,city,wind\n4,18,Oslo,3\n"),
        actor="test",
    )
    v2 = second.version
    assert (v2.number, v2.rows, v2.total_rows) == (2, 1, 4)
    assert v2.added_columns == ["wind"]
    assert v2.table_schema == {"id": "int", "temp": "float", "city": "string", "wind": "int"}


def test_the_same_bytes_are_a_duplicate_not_a_version(csv_file):
    source = csv_file("w1.csv", WEATHER)
    ingest_file(config=project(), dataset="weather", path=source, actor="test")
    again = ingest_file(config=project(), dataset="weather", path=csv_file("copy.csv", WEATHER), actor="test")
    assert again.duplicate
    assert again.version.number == 1
    assert again.to_dict()["message"] == "duplicate of version 1"
    assert DatasetVersion.objects.count() == 1


def test_a_type_conflict_quarantines_the_file_and_keeps_the_table(csv_file):
    ingest_file(config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test")
    bad = csv_file("w3.csv", "id,temp,city\nx,1,Oslo\n")
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="weather", path=bad, actor="test")
    message = info.value.message
    assert message.startswith("w3.csv: type conflict: id is int in the dataset but string in this file")
    assert "--evolve" in message
    entry = QuarantinedFile.objects.get(id=info.value.entry_id)
    kept = settings.LAKEGATE.paths.quarantine / entry.id
    assert (kept / "w3.csv").read_bytes() == bad.read_bytes()
    reason = json.loads((kept / "reason.json").read_text())
    assert (reason["dataset"], reason["code"]) == ("weather", "invalid_input")
    assert bad.exists(), "a CLI ingest copies into the quarantine; the user's file stays"
    assert version_get(name="weather").number == 1


def test_retry_with_evolve_widens_and_resolves_the_entry(csv_file):
    ingest_file(config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test")
    with pytest.raises(QuarantinedError) as info:
        ingest_file(
            config=project(),
            dataset="weather",
            path=csv_file("w3.csv", "id,temp,city\nx,1,Oslo\n"),
            actor="test",
        )
    with pytest.raises(InputError, match="type conflict"):
        quarantine_retry(config=project(), entry_id=info.value.entry_id, actor="test")
    assert QuarantinedFile.objects.get(id=info.value.entry_id).retries == 1

    outcome = quarantine_retry(config=project(), entry_id=info.value.entry_id, evolve=True, actor="test")
    assert outcome.version.widened_columns == {"id": "string"}
    assert outcome.version.table_schema["id"] == "string"
    entry = QuarantinedFile.objects.get(id=info.value.entry_id)
    assert entry.resolved_version == outcome.version
    assert not (settings.LAKEGATE.paths.quarantine / entry.id).exists()
    with pytest.raises(ConflictError, match="already ingested"):
        quarantine_retry(config=project(), entry_id=entry.id, actor="test")
    with pytest.raises(NotFoundError):
        quarantine_retry(config=project(), entry_id="nope", actor="test")


def test_unreadable_files_are_quarantined_with_the_reason(csv_file):
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="weather", path=csv_file("empty.csv", ""), actor="test")
    assert info.value.message.startswith("empty.csv: ")
    assert QuarantinedFile.objects.get(id=info.value.entry_id).dataset == "weather"
    assert not DatasetVersion.objects.exists()


def test_overwrite_replaces_and_export_travels_in_time(csv_file, tmp_path):
    ingest_file(config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test")
    v2 = ingest_file(
        config=project(),
        dataset="weather",
        path=csv_file("w2.csv", "id,temp,city\n9,1.5,Bergen\n"),
        mode="overwrite",
        actor="test",
    )
    assert (v2.version.rows, v2.version.total_rows) == (1, 1)
    _, rows = dataset_export(config=project(), name="weather", number=1, out=tmp_path / "v1.parquet")
    assert rows == 3
    assert pl.read_parquet(tmp_path / "v1.parquet")["city"].to_list() == ["Oslo", "Rome", "Oslo"]
    _, rows = dataset_export(config=project(), name="weather", number=None, out=tmp_path / "latest.parquet")
    assert pl.read_parquet(tmp_path / "latest.parquet")["city"].to_list() == ["Bergen"]
    with pytest.raises(NotFoundError, match="has no version 7"):
        dataset_export(config=project(), name="weather", number=7, out=tmp_path / "x.parquet")


def test_a_delta_commit_the_catalog_never_recorded_is_rolled_back(csv_file, tmp_path):
    first = ingest_file(
        config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test"
    ).version
    table = settings.LAKEGATE.paths.lake / "weather"
    # Simulate a crash after the Delta commit but before the catalog commit.
    stray = tmp_path / "stray.parquet"
    pl.DataFrame({"id": [99], "temp": [0.0], "city": ["Nowhere"]}).write_parquet(stray)
    write_batch(table, stray, expected_version=first.delta_version)
    assert pl.read_delta(str(table)).height == 4

    v2 = ingest_file(
        config=project(),
        dataset="weather",
        path=csv_file("w2.csv", "id,temp,city\n4,18.0,Oslo\n"),
        actor="test",
    ).version
    assert v2.total_rows == 4
    ids = sorted(pl.read_delta(str(table), version=v2.delta_version)["id"].to_list())
    assert ids == [1, 2, 3, 4], "the stray batch must not be part of the dataset"
    assert not restore_to(table, v2.delta_version)


def test_bad_names_and_modes_are_refused(csv_file):
    with pytest.raises(InputError, match="dataset name 'Bad Name'"):
        ingest_file(config=project(), dataset="Bad Name", path=csv_file("a.csv", WEATHER), actor="test")
    with pytest.raises(InputError, match="unknown mode 'merge'"):
        ingest_file(
            config=project(), dataset="ok", path=csv_file("a.csv", WEATHER), mode="merge", actor="test"
        )


def test_savings_stats_add_up(csv_file):
    a = ingest_file(
        config=project(), dataset="weather", path=csv_file("w1.csv", WEATHER), actor="test"
    ).version
    b = ingest_file(
        config=project(), dataset="sales", path=csv_file("s.csv", "sku,qty\nA,1\nB,2\n"), actor="test"
    ).version
    c = ingest_file(
        config=project(), dataset="sales", path=csv_file("s2.json", '[{"sku": "C", "qty": 3}]'), actor="test"
    ).version
    stats = savings_stats(price_per_gb_month=0.5)
    total = stats["total"]
    assert (total["files"], total["rows"], total["datasets"]) == (3, 6, 2)
    assert total["bytes_in"] == a.bytes_in + b.bytes_in + c.bytes_in
    assert total["bytes_saved"] == total["bytes_in"] - total["bytes_out"]
    assert [d["dataset"] for d in stats["datasets"]] == ["sales", "weather"]
    assert stats["days"][0]["files"] == 3
    formats = {row["format"]: row for row in stats["formats"]}
    assert set(formats) == {"csv", "json"}
    assert (formats["csv"]["files"], formats["csv"]["rows"]) == (2, 5)
    assert formats["json"]["bytes_in"] == c.bytes_in
    assert formats["json"]["bytes_out"] == c.bytes_out
    assert sum(row["bytes_in"] for row in stats["formats"]) == total["bytes_in"]
    cost = stats["cost"]
    assert cost["price_per_gb_month"] == 0.5
    assert cost["raw_per_month"] == round(total["bytes_in"] / 10**9 * 0.5, 4)
    assert cost["saved_per_month"] == round(total["bytes_saved"] / 10**9 * 0.5, 4)


@pytest.mark.parametrize(
    ("source_name", "expected"),
    [
        ("weather.CSV", "csv"),
        ("dir/book.xlsx", "xlsx"),
        ("batch.csv.gz", "csv.gz"),
        ("bundle.zip", "zip"),
        ("stream:42", "stream"),
        ("customers@3", "dataset"),
        ("README", "other"),
        ("notes.docx", "other"),
    ],
)
def test_each_source_name_has_one_file_format(source_name, expected):
    assert file_format(source_name) == expected


def test_type_overrides_from_lakegate_yaml_apply(csv_file, settings):
    from lakegate.config import DatasetSettings

    datasets = {"codes": DatasetSettings(types={"zip": "string", "day": "date:%d.%m.%Y"})}
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"datasets": datasets})
    version = ingest_file(
        config=project(), dataset="codes", path=csv_file("c.csv", "zip,day\n01234,31.12.2024\n"), actor="test"
    ).version
    assert version.schema == {"zip": "string", "day": "date"}
    assert version.stats["zip"]["top"][0]["value"] == "01234"
