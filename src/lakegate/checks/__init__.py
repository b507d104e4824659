"""The quality gate: contracts, degenerate data, drift, text drift and anomalies -> one report.

A check is config -> compute -> result -> renderers: a frozen pydantic config with a stable
``fingerprint()``, a pure function over the batch (a polars ``LazyFrame``) and the reference,
a typed :class:`CheckResult` with :class:`ReasonCode` findings, and the report's JSON
(:meth:`CheckReport.to_dict`, schema ``report.schema.json``) and HTML (:func:`render_html`).

The reference is never read: checks use its stored profile (``lakegate.lake.profile_parquet``,
merged over a window with :func:`merge_profiles`) and, for anomalies and text drift, a small
sample stored at ingest (:func:`reference_sample`). A check costs O(current batch).

At ingest, after an accepted version is written::

    profile = staged.profile                                    # profile_parquet(parquet)
    sample = reference_sample(pl.scan_parquet(staged.parquet), 5000, seed=0)
    sample.write_parquet(version_dir / "sample.parquet")        # next to the stored profile

To check a new batch (the server's ``CheckReport`` row stores ``to_dict()``)::

    reference = Reference.from_profiles([p_v3, p_v4, p_v5], samples=[s_v5], versions=["3", "4", "5"])
    checks = load_checks(dataset_yaml["checks"]) or default_checks(contract=contract_yaml, target="label")
    report = run_checks(pl.scan_parquet(batch), checks=checks, reference=reference,
                        current_profile=staged.profile, dataset="sales", version="6")
    report.status                  # Status.PASS / WARN / FAIL: the gate's verdict
    save(report, artifacts / "check.html"); save(report, artifacts / "check.json")
    report.raise_for_status()      # QualityGateError (CLI exit code 3) when it failed

Verdicts: a check's status is the worst of its findings' severities (each reason code has a
default severity, overridable per check with ``severity: {code: status}``); a check that
cannot run is ``skip``; the report's status is the worst non-skipped check status.
Contracts: :func:`load_contract` (dict, YAML text or file; errors name field and line),
:func:`infer_contract` (a starting contract from an accepted frame or profile).
"""

from lakegate.checks._config import (
    DEFAULT_SEVERITY,
    AnomalyConfig,
    CheckConfig,
    CompletenessConfig,
    ContractConfig,
    DriftConfig,
    DriftThresholds,
    SchemaConfig,
    TextDriftConfig,
)
from lakegate.checks._contract_infer import infer_contract
from lakegate.checks._contract_model import ColumnContract, Contract, RowBounds, load_contract
from lakegate.checks._html import render_html
from lakegate.checks._reference import Reference, merge_profiles
from lakegate.checks._registry import CHECKS, default_checks, load_checks, run_checks
from lakegate.checks._report import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    CheckReport,
    ReferenceInfo,
    build_report,
    report_json_schema,
    save,
)
from lakegate.checks._results import (
    AnomalousRow,
    AnomalyDetails,
    CheckResult,
    ColumnCompleteness,
    ColumnDrift,
    CompletenessDetails,
    ContractDetails,
    ContractFailure,
    Distribution,
    DriftDetails,
    DriftStats,
    SchemaDetails,
    TextColumnDrift,
    TextDriftDetails,
    TypeChange,
)
from lakegate.checks._sample import reference_sample, sample_rows
from lakegate.checks._scoring import PREDICTION, scoring_checks, scoring_reference
from lakegate.checks._types import Reason, ReasonCode, Status

__all__ = [
    "CHECKS",
    "DEFAULT_SEVERITY",
    "PREDICTION",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "AnomalousRow",
    "AnomalyConfig",
    "AnomalyDetails",
    "CheckConfig",
    "CheckReport",
    "CheckResult",
    "ColumnCompleteness",
    "ColumnContract",
    "ColumnDrift",
    "CompletenessConfig",
    "CompletenessDetails",
    "Contract",
    "ContractConfig",
    "ContractDetails",
    "ContractFailure",
    "Distribution",
    "DriftConfig",
    "DriftDetails",
    "DriftStats",
    "DriftThresholds",
    "Reason",
    "ReasonCode",
    "Reference",
    "ReferenceInfo",
    "RowBounds",
    "SchemaConfig",
    "SchemaDetails",
    "Status",
    "TextColumnDrift",
    "TextDriftConfig",
    "TextDriftDetails",
    "TypeChange",
    "build_report",
    "default_checks",
    "infer_contract",
    "load_checks",
    "load_contract",
    "merge_profiles",
    "reference_sample",
    "render_html",
    "report_json_schema",
    "run_checks",
    "sample_rows",
    "save",
    "scoring_checks",
    "scoring_reference",
]
