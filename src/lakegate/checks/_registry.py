"""The lazy registry of checks (kind -> dotted path of its compute function) and the runner.

Nothing here imports a check's module (nor pandera, scipy, scikit-learn) until that check
runs. :func:`run_checks` is the entry point: it runs each configured check over the batch,
times it, turns an unexpected exception into a ``check_error`` result (fail closed: a broken
check never passes a batch, and never crashes the caller), and aggregates the report.
Configuration problems (:class:`~lakegate.errors.LakegateError`, e.g. a missing extra) are
raised, since no verdict is meaningful until they are fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import Field, TypeAdapter

from lakegate._resolve import resolve
from lakegate.checks._config import (
    AnomalyConfig,
    CheckConfig,
    CompletenessConfig,
    ContractConfig,
    DriftConfig,
    SchemaConfig,
    TextDriftConfig,
)
from lakegate.checks._context import CheckContext
from lakegate.checks._contract_model import Contract, load_contract, parse_yaml_source
from lakegate.checks._reference import Profile, Reference
from lakegate.checks._report import CheckReport, ReferenceInfo, build_report
from lakegate.checks._results import CheckResult
from lakegate.checks._types import ReasonCode
from lakegate.checks._yaml import validate_with_lines
from lakegate.errors import ConfigError, LakegateError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["CHECKS", "AnyCheckConfig", "default_checks", "load_checks", "run_check", "run_checks"]

CHECKS: Final[dict[str, str]] = {
    "schema": "lakegate.checks._schema:compute_schema",
    "contract": "lakegate.checks._contracts:compute_contract",
    "drift": "lakegate.checks._drift:compute_drift",
    "text_drift": "lakegate.checks._text_drift:compute_text_drift",
    "anomalies": "lakegate.checks._anomalies:compute_anomalies",
    "completeness": "lakegate.checks._completeness:compute_completeness",
}

AnyCheckConfig = Annotated[
    SchemaConfig | ContractConfig | CompletenessConfig | DriftConfig | TextDriftConfig | AnomalyConfig,
    Field(discriminator="kind"),
]
_CHECK_LIST: TypeAdapter[list[AnyCheckConfig]] = TypeAdapter(list[AnyCheckConfig])

Compute = Callable[[Any, CheckContext], CheckResult]
_loaded: dict[str, Compute] = {}


def compute_function(kind: str) -> Compute:
    """The compute function registered for ``kind`` (imported on first use)."""
    function = _loaded.get(kind)
    if function is None:
        if kind not in CHECKS:
            raise ConfigError(f"unknown check kind {kind!r} (known: {', '.join(sorted(CHECKS))})")
        function = resolve(CHECKS[kind])
        _loaded[kind] = function
    return function


def load_checks(
    source: Sequence[Mapping[str, Any] | CheckConfig] | str | Path, *, filename: str | None = None
) -> tuple[CheckConfig, ...]:
    """Check configs from a list of dicts (``{kind: drift, target: label, ...}``), YAML text or file.

    Invalid entries raise :class:`~lakegate.errors.ConfigError` naming the field
    (``[1].thresholds.psi``) and, for YAML, ``file:line``.
    """
    node: Any = None
    items: Any = source
    if isinstance(source, str | Path):
        items, node, filename = parse_yaml_source(source, filename=filename, what="checks")
        if isinstance(items, Mapping) and "checks" in items:
            items, node = items["checks"], _child(node, "checks")
        if not isinstance(items, list):
            raise ConfigError(f"{filename}:1: checks are a list of mappings with a 'kind'")
    configs = validate_with_lines(
        _CHECK_LIST.validate_python,
        list(items),
        what="checks",
        filename=filename,
        node=node,
        tags=frozenset(CHECKS),
    )
    return tuple(configs)


def _child(node: Any, key: str) -> Any:
    for key_node, value in getattr(node, "value", []):
        if getattr(key_node, "value", None) == key:
            return value
    return None


def default_checks(
    *,
    contract: Contract | Mapping[str, Any] | str | Path | None = None,
    target: str | None = None,
) -> tuple[CheckConfig, ...]:
    """The gate a dataset gets unless it configures one: schema, contract (when given),
    completeness, drift (``target`` marks the label), text drift and anomalies (these two skip
    without a sample)."""
    checks: list[CheckConfig] = [SchemaConfig()]
    if contract is not None:
        checks.append(ContractConfig(contract=load_contract(contract)))
    checks.append(CompletenessConfig())
    checks += [DriftConfig(target=target), TextDriftConfig(), AnomalyConfig()]
    return tuple(checks)


def run_check(config: CheckConfig, context: CheckContext) -> CheckResult:
    """Run one check and time it; an unexpected exception becomes a ``check_error`` result."""
    started = time.perf_counter()
    try:
        result = compute_function(config.kind)(config, context)
    except LakegateError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken check must fail the gate, not the caller
        reason = config.reason(ReasonCode.CHECK_ERROR, f"the check broke: {type(exc).__name__}: {exc}"[:500])
        result = config.result([reason])
    return result.model_copy(update={"seconds": round(time.perf_counter() - started, 4)})


def run_checks(
    current: pl.LazyFrame | pl.DataFrame,
    *,
    checks: Sequence[CheckConfig] | None = None,
    reference: Reference | Profile | None = None,
    current_profile: Profile | None = None,
    dataset: str | None = None,
    version: str | None = None,
) -> CheckReport:
    """Check a batch: every config in ``checks`` (default :func:`default_checks`) -> one report.

    ``current`` is the batch (a Parquet/Delta scan), ``reference`` a :class:`Reference` (or a
    bare profile dict), ``current_profile`` the batch's own profile when ingest made one.
    """
    started = time.perf_counter()
    if reference is not None and not isinstance(reference, Reference):
        reference = Reference(profile=reference)
    context = CheckContext(current=current.lazy(), reference=reference, current_profile=current_profile)
    results = [run_check(config, context) for config in (default_checks() if checks is None else checks)]
    info = None
    if reference is not None:
        sample_rows = reference.sample.height if reference.sample is not None else None
        info = ReferenceInfo(versions=reference.versions, rows=reference.rows, sample_rows=sample_rows)
    return build_report(
        results,
        dataset=dataset,
        version=version,
        reference=info,
        seconds=time.perf_counter() - started,
    )
