"""The ``contract`` check: a :class:`Contract` enforced with pandera's polars backend.

Row bounds, missing/extra columns and type families are checked here from the schema and
row count (cheap, and they decide which value rules can run at all). The value rules
(nullable, min, max, allowed, regex, unique, composite unique) go to one pandera
``DataFrameSchema`` validated with ``lazy=True`` at schema-and-data depth, so every failing
rule is collected in one pass. :func:`_translate` is the one seam where pandera's errors
become :class:`ContractFailure` records (column, rule, failing rows, a few failing values).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lakegate.checks._config import ContractConfig
from lakegate.checks._context import CheckContext
from lakegate.checks._contract_model import ColumnContract, Contract
from lakegate.checks._frame import Family, family, json_value, row_count
from lakegate.checks._results import CheckResult, ContractDetails, ContractFailure
from lakegate.checks._types import Reason, ReasonCode
from lakegate.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["compute_contract"]

_ACCEPTS: dict[str, set[str]] = {
    "int": {"int"},
    "float": {"float", "int"},  # an all-integer float column often arrives as int
    "number": {"int", "float"},
    "bool": {"bool"},
    "string": {"string"},
    "date": {"date"},
    "datetime": {"datetime"},
    "time": {"time"},
    "duration": {"duration"},
}
_RULE_CODES = {
    "min": ReasonCode.CONTRACT_MIN,
    "max": ReasonCode.CONTRACT_MAX,
    "allowed": ReasonCode.CONTRACT_ALLOWED,
    "regex": ReasonCode.CONTRACT_REGEX,
}


def compute_contract(config: ContractConfig, context: CheckContext) -> CheckResult:
    """Run the contract check (pure: reads the batch, returns a result)."""
    contract = config.contract
    schema = context.current.collect_schema()
    rows = row_count(context.current)
    failures: list[ContractFailure] = []
    bounds = contract.rows
    if bounds is not None and (
        (bounds.min is not None and rows < bounds.min) or (bounds.max is not None and rows > bounds.max)
    ):
        failures.append(_failure(ReasonCode.CONTRACT_ROWS, None, "rows", 1, f"{rows} rows, outside {bounds}"))
    runnable: dict[str, tuple[ColumnContract, Family]] = {}
    for name, rule in contract.columns.items():
        if name not in schema:
            if rule.required:
                failures.append(
                    _failure(ReasonCode.CONTRACT_MISSING_COLUMN, name, "required", rows, "column is missing")
                )
            continue
        problem = _type_problem(rule, family(schema[name]))
        if problem:
            failures.append(_failure(ReasonCode.CONTRACT_TYPE, name, "type", rows, problem))
        else:
            runnable[name] = (rule, family(schema[name]))
    if contract.strict:
        failures += [
            _failure(ReasonCode.CONTRACT_EXTRA_COLUMN, n, "strict", rows, "column is not in the contract")
            for n in schema
            if n not in contract.columns
        ]
    keys = tuple(k for k in contract.unique if k in schema)
    if runnable or keys:
        failures += _run_pandera(context.current, contract, runnable, keys, config.examples)
    reasons: list[Reason] = [
        config.reason(f.code, f"{f.column or 'table'}: {f.message}", column=f.column, value=f.failures)
        for f in failures
    ]
    details = ContractDetails(rows=rows, columns_checked=len(runnable), failures=tuple(failures))
    return config.result(reasons, details)


def _failure(code: ReasonCode, column: str | None, check: str, count: int, message: str) -> ContractFailure:
    return ContractFailure(code=code, column=column, check=check, failures=count, message=message)


def _type_problem(rule: ColumnContract, actual: Family | str) -> str | None:
    if actual == "null" or (rule.type != "any" and actual in _ACCEPTS[rule.type]):
        return None
    if rule.type != "any":
        return f"type is {actual}, the contract says {rule.type}"
    if (rule.min is not None or rule.max is not None) and actual not in {"int", "float", "date", "datetime"}:
        return f"min/max need a numeric or date column, this one is {actual}"
    if rule.regex is not None and actual != "string":
        return f"regex needs a string column, this one is {actual}"
    return None


def _bound(rule: ColumnContract, which: str, actual: Family) -> Any:
    value = rule.bound("min" if which == "min" else "max")
    if isinstance(value, str) and actual in {"date", "datetime"}:
        value = date.fromisoformat(value) if actual == "date" else datetime.fromisoformat(value)
    if actual == "datetime" and isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)  # noqa: DTZ001 - same zone as the column
    return value


def _schema(
    contract: Contract, runnable: dict[str, tuple[ColumnContract, Family]], keys: tuple[str, ...]
) -> Any:
    import pandera.polars as pa

    columns = {}
    for name, (rule, actual) in runnable.items():
        checks = []
        if rule.min is not None:
            checks.append(pa.Check.ge(_bound(rule, "min", actual), name="min"))
        if rule.max is not None:
            checks.append(pa.Check.le(_bound(rule, "max", actual), name="max"))
        if rule.allowed is not None:
            allowed = [str(v) for v in rule.allowed] if actual == "string" else list(rule.allowed)
            checks.append(pa.Check.isin(allowed, name="allowed"))
        if rule.regex is not None:
            checks.append(pa.Check.str_matches(rule.regex, name="regex"))
        columns[name] = pa.Column(None, checks=checks, nullable=rule.nullable, unique=rule.unique)
    return pa.DataFrameSchema(columns, unique=list(keys) or None, strict=False)


def _run_pandera(
    frame: pl.LazyFrame,
    contract: Contract,
    runnable: dict[str, tuple[ColumnContract, Family]],
    keys: tuple[str, ...],
    examples: int,
) -> list[ContractFailure]:
    from pandera.config import config_context
    from pandera.errors import BackendNotFoundError, SchemaDefinitionError, SchemaErrors

    schema = _schema(contract, runnable, keys)
    try:
        with config_context(validation_depth="SCHEMA_AND_DATA"):
            schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        return [_translate(error, examples, keys) for error in exc.schema_errors]
    except (SchemaDefinitionError, BackendNotFoundError) as exc:
        raise ConfigError(f"contract cannot be enforced: {exc}") from exc
    return []


def _translate(error: Any, examples: int, keys: tuple[str, ...]) -> ContractFailure:
    """One pandera ``SchemaError`` -> one :class:`ContractFailure` (the only pandera seam)."""
    reason = getattr(error.reason_code, "name", "")
    check = error.check if isinstance(error.check, str) else getattr(error.check, "name", None) or "check"
    column = getattr(error, "column_name", None)
    cases = error.failure_cases
    if column is None and keys and all(k in getattr(cases, "columns", ()) for k in keys):
        cases = cases.select(keys)  # a composite key's duplicates: show the key, not whole rows
    count = len(cases) if hasattr(cases, "__len__") and not isinstance(cases, str) else 1
    if reason == "SERIES_CONTAINS_NULLS":
        code, check, message = ReasonCode.CONTRACT_NULLS, "nullable", f"{count} null values"
    elif reason in {"SERIES_CONTAINS_DUPLICATES", "DUPLICATES"}:
        code, check, message = ReasonCode.CONTRACT_UNIQUE, "unique", f"{count} rows share a value"
    elif reason == "DATAFRAME_CHECK" and check in _RULE_CODES:
        code = _RULE_CODES[check]
        message = f"{count} values fail {check} {_statistics(error.check)}".rstrip()
    else:
        code, message = ReasonCode.CONTRACT_OTHER, str(getattr(error, "args", [""])[0])[:300]
    return ContractFailure(
        code=code,
        column=column,
        check=check,
        failures=count,
        examples=_examples(cases, examples),
        message=message,
    )


def _statistics(check: Any) -> str:
    stats = getattr(check, "statistics", None) or {}
    return ", ".join(f"{v!r}" for v in stats.values()) if stats else ""


def _examples(cases: Any, limit: int) -> tuple[Any, ...]:
    if limit <= 0 or cases is None:
        return ()
    import polars as pl

    if not isinstance(cases, pl.DataFrame):
        return (json_value(cases),)
    if cases.width == 1 or "failure_case" in cases.columns:
        series = cases["failure_case"] if "failure_case" in cases.columns else cases.to_series()
        values = series.unique(maintain_order=True).head(limit).to_list()
        return tuple(json_value(v) for v in values)
    rows = cases.unique(maintain_order=True).head(limit).to_dicts()
    return tuple({k: json_value(v) for k, v in row.items()} for row in rows)
