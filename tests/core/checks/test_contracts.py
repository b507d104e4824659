"""Contracts: YAML-able rules enforced with pandera's polars backend, errors naming the field."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from lakegate.checks import (
    ContractConfig,
    ContractDetails,
    ReasonCode,
    Status,
    infer_contract,
    load_contract,
    run_checks,
)
from lakegate.errors import ConfigError

from .conftest import mixed_frame

CONTRACT_YAML = """\
version: 1
rows: {min: 2, max: 100}
unique: [order, line]
columns:
  order: {type: int, nullable: false}
  line: {type: int}
  amount: {type: number, min: 0, max: 1000}
  country: {type: string, allowed: [DE, FR]}
  email: {type: string, regex: '^[^@]+@[^@]+$'}
  sku: {type: string, unique: true}
  day: {type: date, min: '2024-01-01'}
"""


def orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order": [1, 1, 2, None, 3],
            "line": [1, 1, 1, 1, 2],
            "amount": [10.0, -5.0, 2000.0, 3.0, 4.0],
            "country": ["DE", "FR", "XX", "DE", None],
            "email": ["a@b.c", "nope", "x@y.z", None, "k@l.m"],
            "sku": ["s1", "s2", "s2", "s3", "s4"],
            "day": [date(2024, 1, 2), date(2023, 12, 31), date(2024, 5, 1), None, date(2024, 2, 2)],
        }
    )


def check(frame: pl.DataFrame | pl.LazyFrame, contract) -> tuple[Status, ContractDetails, list]:
    [result] = run_checks(frame, checks=[ContractConfig(contract=load_contract(contract))]).checks
    assert isinstance(result.details, ContractDetails)
    return result.status, result.details, list(result.reasons)


def test_every_broken_rule_is_reported_with_counts_and_examples(store):
    frame, _ = store("orders", orders())
    status, details, reasons = check(frame, CONTRACT_YAML)
    assert status == Status.FAIL
    found = {(f.column, f.code): f for f in details.failures}
    assert found["order", ReasonCode.CONTRACT_NULLS].failures == 1
    assert found["amount", ReasonCode.CONTRACT_MIN].examples == (-5.0,)
    assert found["amount", ReasonCode.CONTRACT_MAX].examples == (2000.0,)
    assert found["country", ReasonCode.CONTRACT_ALLOWED].examples == ("XX",)
    assert found["email", ReasonCode.CONTRACT_REGEX].examples == ("nope",)
    assert found["sku", ReasonCode.CONTRACT_UNIQUE].failures == 2
    assert found["day", ReasonCode.CONTRACT_MIN].examples == ("2023-12-31",)
    composite = found[None, ReasonCode.CONTRACT_UNIQUE]
    assert composite.failures == 2
    assert composite.examples == ({"order": 1, "line": 1},)
    assert len(details.failures) == 8
    assert all(r.status == Status.FAIL for r in reasons)
    assert {r.code for r in reasons} == {f.code for f in details.failures}


def test_a_batch_that_keeps_the_contract_passes():
    good = orders().filter(pl.col("order").is_not_null()).unique(["order", "line"], keep="first")
    good = good.with_columns(
        amount=pl.lit(5.0),
        country=pl.lit("DE"),
        email=pl.lit("a@b.c"),
        sku=pl.format("s{}", pl.int_range(pl.len())),
        day=pl.lit(date(2024, 3, 3)),
    )
    status, details, reasons = check(good.lazy(), CONTRACT_YAML)
    assert (status, details.failures, reasons) == (Status.PASS, (), [])


def test_rows_missing_and_extra_columns_and_types():
    contract = {
        "rows": {"min": 10},
        "strict": True,
        "columns": {"a": {"type": "int"}, "gone": {"type": "float"}, "maybe": {"required": False}},
    }
    frame = pl.DataFrame({"a": ["1", "2"], "extra": [1, 2]})
    _, details, _ = check(frame, contract)
    codes = {(f.column, f.code) for f in details.failures}
    assert codes == {
        (None, ReasonCode.CONTRACT_ROWS),
        ("gone", ReasonCode.CONTRACT_MISSING_COLUMN),
        ("a", ReasonCode.CONTRACT_TYPE),
        ("extra", ReasonCode.CONTRACT_EXTRA_COLUMN),
    }


def test_an_all_null_column_is_judged_by_nullable_only():
    frame = pl.DataFrame({"a": pl.Series([None, None], dtype=pl.Null)})
    _, details, _ = check(frame, {"columns": {"a": {"type": "int", "min": 0, "nullable": False}}})
    assert [(f.code, f.failures) for f in details.failures] == [(ReasonCode.CONTRACT_NULLS, 2)]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("columns:\n  age:\n    type: int\n    min: ten\n", "shop.yaml:4: columns.age.min"),
        ("columns:\n  age: {type: integer}\n", "shop.yaml:2: columns.age.type"),
        ("columns:\n  age: {type: int, min: 5, max: 1}\n", "shop.yaml:2: columns.age: min (5) is greater"),
        ("columns:\n  name: {type: string, regex: '(['}\n", "shop.yaml:2: columns.name.regex"),
        ("columns:\n  n: {type: int, regex: 'x'}\n", "shop.yaml:2: columns.n.regex: regex applies to string"),
        ("rows: {min: -1}\n", "shop.yaml:1: rows.min"),
        ("columns:\n  a: {tpye: int}\n", "shop.yaml:2: columns.a.tpye: Extra inputs"),
        ("columns: [a, b\n", "shop.yaml:2: invalid YAML"),
        ("- just a list\n", "shop.yaml:1: a contract is a mapping"),
    ],
)
def test_an_invalid_contract_names_the_field_and_the_line(text, where):
    with pytest.raises(ConfigError) as caught:
        load_contract(text, filename="shop.yaml")
    assert str(caught.value).startswith(where), str(caught.value)


def test_an_invalid_dict_names_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"^contract: columns\.d\.min: .*ISO date"):
        load_contract({"columns": {"d": {"type": "date", "min": "yesterday"}}})
    path = tmp_path / "c.yaml"
    path.write_text("columns:\n  a: {nullable: maybe}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:2: columns\.a\.nullable"):
        load_contract(path)


def test_an_inferred_contract_accepts_its_own_data_and_rejects_a_shifted_batch(store):
    reference = mixed_frame(1).with_columns(id=pl.int_range(pl.len()))
    scan, profile = store("ref", reference)
    contract = infer_contract(scan)
    assert load_contract(contract).columns["id"].unique
    assert contract["columns"]["country"]["allowed"] == ["DE", "ES", "FR", "IT"]
    assert contract["columns"]["visits"]["type"] == "int"
    assert contract["columns"]["visits"]["min"] == 0
    assert check(scan, contract)[0] == Status.PASS
    assert check(mixed_frame(9).with_columns(id=pl.int_range(pl.len())), contract)[0] == Status.PASS
    broken = reference.with_columns(country=pl.lit("NL"), age=pl.col("age") * 10)
    _, details, _ = check(broken, contract)
    assert {(f.column, f.code) for f in details.failures} == {
        ("country", ReasonCode.CONTRACT_ALLOWED),
        ("age", ReasonCode.CONTRACT_MAX),
    }
    from_profile = infer_contract(profile)
    assert from_profile["columns"]["country"]["allowed"] == ["DE", "ES", "FR", "IT"]
    assert from_profile["columns"]["amount"]["type"] == "float"
    assert check(scan, from_profile)[0] == Status.PASS
