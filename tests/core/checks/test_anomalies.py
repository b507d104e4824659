"""Row-level anomalies: an IsolationForest fit on the reference sample scores the batch."""

from __future__ import annotations

import numpy as np
import polars as pl

from lakegate.checks import AnomalyConfig, AnomalyDetails, ReasonCode, Reference, Status, run_checks

from .conftest import mixed_frame


def anomalies(
    current: pl.DataFrame, sample: pl.DataFrame | None, **options
) -> tuple[Status, AnomalyDetails, list]:
    reference = Reference(profile={}, sample=sample)
    [result] = run_checks(current, checks=[AnomalyConfig(**options)], reference=reference).checks
    return result.status, result.details, list(result.reasons)


def with_outliers(frame: pl.DataFrame, rows: list[int]) -> pl.DataFrame:
    hit = pl.int_range(pl.len()).is_in(rows)
    return frame.with_columns(
        amount=pl.when(hit).then(pl.col("amount") * 40).otherwise(pl.col("amount")),
        age=pl.when(hit).then(pl.lit(130.0)).otherwise(pl.col("age")),
        device=pl.when(hit).then(pl.lit("fridge")).otherwise(pl.col("device")),
    )


def test_a_batch_like_the_reference_passes():
    status, details, reasons = anomalies(mixed_frame(2, 3000), mixed_frame(1, 3000))
    assert status == Status.PASS
    assert reasons == []
    assert details.anomalous_share < 0.03
    assert set(details.features) == {"amount", "age", "score", "visits", "country", "device", "churned"}


def test_injected_outliers_are_flagged_and_listed_first():
    rng = np.random.default_rng(0)
    injected = sorted(rng.choice(3000, 150, replace=False).tolist())
    status, details, reasons = anomalies(with_outliers(mixed_frame(2, 3000), injected), mixed_frame(1, 3000))
    assert status == Status.WARN
    [reason] = reasons
    assert reason.code == ReasonCode.ANOMALY_RATE
    assert reason.value is not None
    assert reason.value >= 3
    assert details.anomalous_rows >= 150
    assert details.pvalue is not None
    assert details.pvalue < 1e-6
    assert len(details.top) == 10
    assert {row.row for row in details.top} <= set(injected)
    assert details.top[0].values["device"] == "fridge"
    assert [row.score for row in details.top] == sorted(row.score for row in details.top)


def test_past_the_fail_ratio_it_fails():
    injected = list(range(0, 3000, 7))  # 14 %
    status, _, reasons = anomalies(with_outliers(mixed_frame(2, 3000), injected), mixed_frame(1, 3000))
    assert status == Status.FAIL
    assert reasons[0].status == Status.FAIL


def test_it_is_deterministic_and_samples_large_batches():
    current, sample = with_outliers(mixed_frame(2, 5000), [3, 4000]), mixed_frame(1, 1000)
    first = anomalies(current, sample, max_rows=1000)[1]
    assert first.scored_rows == 1000
    assert first.current_rows == 5000
    assert anomalies(current, sample, max_rows=1000)[1] == first


def test_it_skips_without_a_sample_or_enough_rows():
    status, details, reasons = anomalies(mixed_frame(2, 100), None)
    assert (status, details, [r.code for r in reasons]) == (
        Status.SKIP,
        None,
        [ReasonCode.NO_REFERENCE_SAMPLE],
    )
    status, _, reasons = anomalies(mixed_frame(2, 100), mixed_frame(1, 20))
    assert (status, [r.code for r in reasons]) == (Status.SKIP, [ReasonCode.TOO_FEW_ROWS])
    only_dates = pl.DataFrame({"d": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 6, 1), eager=True)})
    status, _, reasons = anomalies(only_dates, only_dates)
    assert (status, [r.code for r in reasons]) == (Status.SKIP, [ReasonCode.NOTHING_TO_CHECK])


def test_nulls_and_unseen_categories_do_not_break_scoring():
    current = mixed_frame(2, 500).with_columns(
        amount=pl.when(pl.int_range(pl.len()) % 2 == 0).then(None).otherwise(pl.col("amount")),
        country=pl.lit(None, dtype=pl.String),
    )
    status, details, _ = anomalies(current, mixed_frame(1, 1000))
    assert details.scored_rows == 500
    assert status in {Status.PASS, Status.WARN, Status.FAIL}
