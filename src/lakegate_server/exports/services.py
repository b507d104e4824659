"""Export checked dataset versions to warehouses (PostgreSQL natively, others through dlt).

``dataset_export`` exports one accepted version to a target a user gave (the API, the CLI):
the whole table as of that version, or only the rows that version added (``scope="batch"``).
Such a target passes the export policy (``outbound:``, ``exports.allowed_env``, never the
catalog's own database; :func:`export_policy`). ``dataset_export_declared`` exports to a
target the operator declared under ``datasets: {NAME: {exports: [...]}}``, which is not
limited. ``export_queue`` refuses a user's target before queueing its run;
``export_runs_for_accepted_version`` queues the declared exports when the spine accepts a
version (:func:`lakegate_server.flow.on_version_decided`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from lakegate.config import Settings
from lakegate.errors import ConflictError, ExportError, InputError
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.selectors import version_accepted, version_get
from lakegate_server.exports.models import ExportRecord
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

if TYPE_CHECKING:
    from lakegate.export import TargetPolicy

__all__ = [
    "dataset_export",
    "dataset_export_declared",
    "export_policy",
    "export_queue",
    "export_runs_for_accepted_version",
    "inline_secret_refusal",
]

log = logging.getLogger("lakegate.export")
Scope = Literal["table", "batch"]
Mode = Literal["append", "replace", "merge"]


def export_policy(*, config: Settings) -> TargetPolicy:
    """What a user's export target may be: ``outbound:``, ``exports.allowed_env``, not the catalog."""
    from django.db import connections

    from lakegate.export import CatalogDatabase, target_policy

    db = connections["default"].settings_dict
    catalog = None
    if "postgresql" in str(db.get("ENGINE", "")):  # the database in use (a test run's test_<name> too)
        host, port = str(db.get("HOST") or ""), int(db.get("PORT") or 5432)
        catalog = CatalogDatabase(host=host, port=port, name=str(db["NAME"]))
    return target_policy(config, catalog=catalog)


def inline_secret_refusal(to: str) -> str | None:
    """Why ``to`` may not be stored in a run's parameters (viewers read them), or ``None``.

    A password in the URL is refused rather than stored: no secret store to guard, no key
    to rotate, and nothing for a viewer to read. A text that is not a URL libpq can read is
    refused too, so nothing half-parsed (a ``key=value`` string with a password) is stored.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    from lakegate.export import mask_url, parse_target

    text = to.strip()
    if not text or text.startswith(("env:", "dlt:")):
        return None
    try:
        url = parse_target(text).url or ""  # postgres:// and postgresql+psycopg:// as postgresql://
        secret = {"password", "sslpassword"} & set(conninfo_to_dict(url))
    except (ExportError, ProgrammingError):
        return "not a postgresql://user@host/db URL, env:NAME or dlt:<destination>"
    if secret or mask_url(text) != text:
        return (
            "a password in the URL would be stored with the run, where every viewer reads it; "
            "put the URL in an environment variable listed in exports.allowed_env and send env:NAME, "
            "declare the export in lakegate.yaml, or run `lakegate export` on the server"
        )
    return None


def export_queue(*, config: Settings, dataset: str, params: dict[str, Any], created_by: str) -> Run:
    """Queue an export run of ``dataset`` to a user's target, refused (HTTP 422) before queueing.

    The target is checked now (its host resolved, no connection) and again when the run connects.
    """
    from lakegate.export import check_target

    to = str(params.get("to") or "")
    reason = inline_secret_refusal(to)
    if reason is not None:
        raise InputError(f"to: {reason}", detail={"field": "to", "reason": "invalid_target"})
    check_target(to, export_policy(config=config))
    return run_create(kind="export", params={**params, "dataset": dataset}, created_by=created_by)


def dataset_export(
    *,
    config: Settings,
    dataset: str,
    to: str,
    table: str,
    mode: Mode = "append",
    key: list[str] | None = None,
    schema: str | None = None,
    number: int | None = None,
    scope: Scope = "table",
    created_by: str = "",
    progress: Callable[[int], None] | None = None,
) -> ExportRecord:
    """Export version ``number`` (default: the latest accepted) of ``dataset`` to a user's ``to``.

    ``to`` must pass :func:`export_policy` (an :class:`InputError` saying why, before any connection).
    """
    return _export(
        config=config,
        dataset=dataset,
        to=to,
        table=table,
        mode=mode,
        key=key,
        schema=schema,
        number=number,
        scope=scope,
        created_by=created_by,
        progress=progress,
        policy=export_policy(config=config),
    )


def dataset_export_declared(
    *,
    config: Settings,
    dataset: str,
    export: int,
    number: int | None = None,
    scope: Scope = "table",
    created_by: str = "",
    progress: Callable[[int], None] | None = None,
) -> ExportRecord:
    """Export ``dataset`` to its declared export number ``export`` (lakegate.yaml: the operator's target)."""
    exports = config.dataset(dataset).exports
    if not 0 <= export < len(exports):
        raise InputError(f"datasets.{dataset}.exports has no entry {export}", detail={"field": "export"})
    declared = exports[export]
    return _export(
        config=config,
        dataset=dataset,
        to=declared.to,
        table=declared.table,
        mode=declared.mode,
        key=declared.key,
        schema=declared.db_schema,
        number=number,
        scope=scope,
        created_by=created_by,
        progress=progress,
        policy=None,
    )


def _export(
    *,
    config: Settings,
    dataset: str,
    to: str,
    table: str,
    mode: Mode,
    key: list[str] | None,
    schema: str | None,
    number: int | None,
    scope: Scope,
    created_by: str,
    progress: Callable[[int], None] | None,
    policy: TargetPolicy | None,
) -> ExportRecord:
    from lakegate.export import export_table
    from lakegate.lake import batch_frame

    version = version_get(name=dataset, number=number) if number is not None else _latest_accepted(dataset)
    if version.status != VersionStatus.ACCEPTED:
        raise ConflictError(
            f"{dataset} v{version.number} is {version.status}: only accepted versions are exported "
            "(approve it first with `lakegate check approve`)",
            detail={"dataset": dataset, "version": version.number, "status": version.status},
        )
    path = config.lake_table(dataset)
    source: Any = batch_frame(path, version.delta_version) if scope == "batch" else path
    result = export_table(
        source,
        to=to,
        table=table,
        mode=mode,
        key=key or None,
        schema=schema,
        version=None if scope == "batch" else version.delta_version,
        progress=progress,
        policy=policy,
    )
    record = ExportRecord.objects.create(
        dataset=dataset,
        number=version.number,
        destination=result.destination[:500],
        table=result.table[:200],
        mode=mode,
        rows=result.rows,
        seconds=result.seconds,
        created_by=created_by,
    )
    log.info("dataset exported", extra={"dataset": dataset, "version": version.number, "rows": result.rows})
    return record


def _latest_accepted(dataset: str) -> DatasetVersion:
    accepted = version_accepted(name=dataset)  # NotFoundError when there is no such dataset
    if not accepted:
        raise ConflictError(f"{dataset} has no accepted version to export", detail={"dataset": dataset})
    return accepted[0]


def export_runs_for_accepted_version(*, config: Settings, dataset: str, number: int) -> list[Run]:
    """Queue the dataset's declared exports for a newly accepted version (one run each)."""
    runs = []
    for index, export in enumerate(config.dataset(dataset).exports):
        params = {
            "dataset": dataset,
            "version": number,
            "export": index,
            "scope": "table" if export.mode == "replace" else "batch",
        }
        runs.append(run_create(kind="export", params=params, created_by=f"trigger:export#{index}"))
    return runs
