"""Export lake tables to PostgreSQL (fast ``COPY``) and to warehouses through dlt destinations.

``export_table(source, to=..., table=..., mode="append"|"replace"|"merge", key=[...])``
streams a Delta table (or a dataset or lazy frame) in bounded batches. ``to`` is a
PostgreSQL URL, ``env:VAR`` naming a variable that holds one, or ``dlt:<destination>``
(Snowflake, BigQuery, Redshift, ... with dlt's own credentials). See ``docs/export.md``.
"""

from lakegate.export._export import MODES, ExportResult, export_table
from lakegate.export._pgtypes import pg_type
from lakegate.export._postgres import ExportMode
from lakegate.export._target import ExportTarget, mask_url, parse_target

__all__ = [
    "MODES",
    "ExportMode",
    "ExportResult",
    "ExportTarget",
    "export_table",
    "mask_url",
    "parse_target",
    "pg_type",
]
