"""The report: stable JSON (validated against report.schema.json), HTML, and save() targets."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

from lakegate.checks import (
    SCHEMA_PATH,
    CheckReport,
    ContractConfig,
    Reference,
    Status,
    default_checks,
    load_contract,
    reference_sample,
    render_html,
    report_json_schema,
    run_checks,
    save,
)
from lakegate.errors import InputError, QualityGateError

from . import jsonschema_lite
from .conftest import mixed_frame


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> CheckReport:
    folder = tmp_path_factory.mktemp("report")
    reference_frame = mixed_frame(1, 3000).with_columns(
        note=pl.format("ok <b>{}</b>", pl.int_range(pl.len()))
    )
    reference_frame.write_parquet(folder / "ref.parquet")
    from lakegate.lake import profile_parquet

    reference = Reference(
        profile=profile_parquet(folder / "ref.parquet"),
        sample=reference_sample(reference_frame, 1000),
        versions=("3",),
    )
    current = mixed_frame(2, 3000, shift=True).with_columns(
        note=pl.format("<script>alert({})</script>", pl.int_range(pl.len())),
        amount=pl.when(pl.int_range(pl.len()) < 200).then(pl.col("amount") * 50).otherwise(pl.col("amount")),
    )
    contract = load_contract(
        {"columns": {"visits": {"type": "int", "max": 8}, "country": {"type": "string"}}}
    )
    checks = (*default_checks(target="churned"), ContractConfig(contract=contract))
    return run_checks(current, checks=checks, reference=reference, dataset="shop <sales>", version="4")


def test_the_schema_file_is_the_generated_schema():
    assert json.loads(SCHEMA_PATH.read_text()) == report_json_schema(), (
        "regenerate: python -c 'import json; from lakegate.checks import report_json_schema, SCHEMA_PATH; "
        'SCHEMA_PATH.write_text(json.dumps(report_json_schema(), indent=2, sort_keys=True) + "\\n")\''
    )


def test_the_report_validates_against_the_schema(report):
    schema = json.loads(SCHEMA_PATH.read_text())
    data = json.loads(report.to_json())
    assert jsonschema_lite.errors(data, schema, schema) == []
    assert {c["kind"] for c in data["checks"]} == {
        "schema",
        "completeness",
        "drift",
        "text_drift",
        "anomalies",
        "contract",
    }
    assert data["schema_version"] == 1
    assert data["report"] == "lakegate.check_report"


def test_the_validator_catches_a_broken_report(report):
    schema = json.loads(SCHEMA_PATH.read_text())
    data = report.to_dict()
    data["status"] = "maybe"
    del data["checks"][0]["fingerprint"]
    drift = next(c for c in data["checks"] if c["kind"] == "drift")
    drift["reasons"][0]["code"] = "no_such_code"
    problems = jsonschema_lite.errors(data, schema, schema)
    assert len(problems) == 3, problems


def test_the_verdict_is_the_worst_check(report):
    assert report.status == Status.FAIL
    assert report.counts[Status.FAIL] >= 1
    assert sum(report.counts.values()) == len(report.checks) == 6
    with pytest.raises(QualityGateError) as caught:
        report.raise_for_status()
    assert caught.value.exit_code == 3
    assert "shop <sales>" in str(caught.value)


def test_skipped_checks_do_not_change_the_verdict():
    report = run_checks(mixed_frame(1, 100), checks=default_checks())
    assert {c.kind: c.status for c in report.checks} == {
        "schema": Status.PASS,
        "completeness": Status.SKIP,
        "drift": Status.SKIP,
        "text_drift": Status.SKIP,
        "anomalies": Status.SKIP,
    }
    assert report.status == Status.PASS
    report.raise_for_status()


def test_a_stored_report_reads_back_equal(report):
    again = CheckReport.from_dict(json.loads(report.to_json()))
    assert again == report
    newer = report.to_dict() | {"added_in_a_later_release": 1}
    assert CheckReport.from_dict(newer) == report  # unknown fields are ignored
    with pytest.raises(InputError):
        CheckReport.from_dict({"report": "something else"})


def test_html_has_a_chart_per_drifted_column_and_no_urls(report):
    page = render_html(report)
    drift = report.result("drift")
    assert drift is not None
    drifted = {c.column for c in drift.details.columns if c.drifted and c.plot is not None}
    assert drifted >= {"amount", "age", "country", "churned"}
    charts = set(re.findall(r'<svg class="dist" data-column="([^"]+)"', page))
    assert charts == drifted
    assert '<svg class="scores"' in page
    assert "Most anomalous rows" in page
    assert "Contract failures" in page
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|src=|url\(", page, re.IGNORECASE)
    assert "&lt;script&gt;" in page
    assert "shop &lt;sales&gt;" in page


@pytest.mark.parametrize("suffix", [".json", ".html"])
def test_save_accepts_a_str_and_a_path(report, tmp_path, suffix):
    as_path = tmp_path / "nested" / f"report{suffix}"
    save(report, as_path)
    save(report, str(tmp_path / f"also{suffix}"))
    assert as_path.read_text() == (tmp_path / f"also{suffix}").read_text()
    assert as_path.read_text().startswith("<!DOCTYPE html>" if suffix == ".html" else "{")
    assert [p.name for p in as_path.parent.iterdir()] == [as_path.name]  # no temp file left


def test_save_accepts_text_and_binary_streams(report, tmp_path):
    text, binary = io.StringIO(), io.BytesIO()
    save(report, text)
    save(report, binary, format="html")
    assert json.loads(text.getvalue()) == report.to_dict()
    assert binary.getvalue().decode().startswith("<!DOCTYPE html>")
    with (tmp_path / "r.html").open("wb") as handle:
        save(report, handle)  # format from the stream's name
    assert (tmp_path / "r.html").read_bytes().startswith(b"<!DOCTYPE html>")
    with pytest.raises(InputError):
        save(report, Path(tmp_path / "report.pdf"))
