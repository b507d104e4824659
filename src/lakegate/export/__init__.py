"""Export lake tables to PostgreSQL (fast ``COPY``) and to warehouses through dlt destinations.

``export_table(source, to=..., table=..., mode="append"|"replace"|"merge", key=[...])``
streams a Delta table (or a dataset or lazy frame) in bounded batches. ``to`` is a
PostgreSQL URL, ``env:VAR`` naming a variable that holds one, or ``dlt:<destination>``
(Snowflake, BigQuery, Redshift, ... with dlt's own credentials). A target given by a user
passes a :class:`TargetPolicy` (``policy=``, built by :func:`target_policy` from lakegate.yaml;
:func:`check_target` checks one without connecting). See ``docs/export.md``.
"""

from lakegate.export._export import MODES, ExportResult, export_table
from lakegate.export._pgtypes import pg_type
from lakegate.export._policy import CatalogDatabase, TargetPolicy, target_policy
from lakegate.export._postgres import ExportMode
from lakegate.export._target import ExportTarget, check_target, mask_url, parse_target

__all__ = [
    "MODES",
    "CatalogDatabase",
    "ExportMode",
    "ExportResult",
    "ExportTarget",
    "TargetPolicy",
    "check_target",
    "export_table",
    "mask_url",
    "parse_target",
    "pg_type",
    "target_policy",
]
