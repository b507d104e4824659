"""Degenerate batches get a verdict with a reason code from every check, never a crash."""

from __future__ import annotations

import polars as pl
import pytest

from lakegate.checks import (
    CheckReport,
    ContractConfig,
    ReasonCode,
    Reference,
    SchemaDetails,
    Status,
    default_checks,
    infer_contract,
    reference_sample,
    run_checks,
)

from .conftest import mixed_frame


@pytest.fixture
def reference(store) -> Reference:
    frame = mixed_frame(1, 2000)
    _, profile = store("ref", frame)
    return Reference(profile=profile, sample=reference_sample(frame, 500), versions=("1",))


def gate(frame: pl.DataFrame, reference: Reference, **options) -> CheckReport:
    contract = infer_contract(reference.profile)
    checks = (*default_checks(target="churned"), ContractConfig(contract=contract))
    report = run_checks(frame.lazy(), checks=checks, reference=reference, **options)
    assert ReasonCode.CHECK_ERROR not in {r.code for r in report.reasons}, report.reasons
    return report


def schema_result(report: CheckReport) -> tuple[Status, SchemaDetails, set[ReasonCode]]:
    result = report.result("schema")
    assert result is not None
    assert isinstance(result.details, SchemaDetails)
    return result.status, result.details, {r.code for r in result.reasons}


def test_zero_rows_fail(reference):
    report = gate(mixed_frame(2, 0), reference)
    status, details, codes = schema_result(report)
    assert (status, details.rows, codes) == (Status.FAIL, 0, {ReasonCode.ZERO_ROWS})
    assert report.status == Status.FAIL
    for kind in ("drift", "anomalies"):
        result = report.result(kind)
        assert result is not None
        assert result.status == Status.SKIP
        assert ReasonCode.TOO_FEW_ROWS in {r.code for r in result.reasons}


def test_one_row_warns(reference):
    report = gate(mixed_frame(2, 1), reference)
    status, _, codes = schema_result(report)
    assert (status, codes) == (Status.WARN, {ReasonCode.ONE_ROW})
    drift = report.result("drift")
    assert drift is not None
    assert drift.status == Status.SKIP
    anomalies = report.result("anomalies")
    assert anomalies is not None
    assert anomalies.status in {Status.PASS, Status.WARN, Status.FAIL}


def test_an_all_null_column_warns(reference):
    frame = mixed_frame(2, 500).with_columns(score=pl.lit(None, dtype=pl.Float64))
    report = gate(frame, reference)
    status, details, codes = schema_result(report)
    assert (status, details.all_null, codes) == (Status.WARN, ("score",), {ReasonCode.ALL_NULL})
    drift = report.result("drift")
    assert drift is not None
    assert "score" in drift.details.drifted


def test_a_column_typed_null_does_not_count_as_a_type_change(reference):
    frame = mixed_frame(2, 500).with_columns(score=pl.lit(None))
    _, details, codes = schema_result(gate(frame, reference))
    assert details.type_changes == ()
    assert codes == {ReasonCode.ALL_NULL}


def test_a_constant_column_warns(reference):
    frame = mixed_frame(2, 500).with_columns(device=pl.lit("web"))
    status, details, codes = schema_result(gate(frame, reference))
    assert (status, details.constant, codes) == (Status.WARN, ("device",), {ReasonCode.CONSTANT})


def test_new_missing_and_retyped_columns(reference):
    frame = (
        mixed_frame(2, 500)
        .drop("visits")
        .with_columns(coupon=pl.lit("X1"), age=pl.col("age").cast(pl.String))
    )
    report = gate(frame, reference)
    status, details, codes = schema_result(report)
    assert status == Status.FAIL
    assert codes == {
        ReasonCode.MISSING_COLUMN,
        ReasonCode.NEW_COLUMN,
        ReasonCode.TYPE_CHANGED,
        ReasonCode.CONSTANT,
    }
    assert details.missing == ("visits",)
    assert details.new == ("coupon",)
    assert [(t.column, t.reference, t.current) for t in details.type_changes] == [("age", "float", "string")]
    drift = report.result("drift")
    assert drift is not None
    age = next(c for c in drift.details.columns if c.column == "age")
    assert age.skipped == ReasonCode.TYPE_CHANGED


def test_a_batch_without_columns_fails(reference):
    report = gate(pl.DataFrame(), reference)
    _, _, codes = schema_result(report)
    assert {ReasonCode.NO_COLUMNS, ReasonCode.ZERO_ROWS, ReasonCode.MISSING_COLUMN} <= codes
    assert report.status == Status.FAIL


def test_integer_widening_is_not_a_type_change(store):
    _, profile = store("ref", pl.DataFrame({"n": pl.Series([1, 2, 3], dtype=pl.Int32)}))
    report = run_checks(pl.DataFrame({"n": pl.Series([4, 5, 6], dtype=pl.Int64)}), reference=profile)
    _, details, codes = schema_result(report)
    assert details.type_changes == ()
    assert not codes


def test_the_batch_profile_spares_a_pass(store, reference):
    scan, profile = store("cur", mixed_frame(2, 500).with_columns(device=pl.lit("web")))
    from_profile = run_checks(scan, reference=reference, current_profile=profile)
    from_frame = run_checks(scan, reference=reference)
    assert schema_result(from_profile)[1] == schema_result(from_frame)[1]
