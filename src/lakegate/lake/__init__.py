"""The lake: convert files to Parquet/Delta, stage batches, version datasets, quarantine."""

from lakegate.lake._compact import Compacted, compact_table, table_file_count
from lakegate.lake._convert import FORMATS, ConvertResult, OutputFormat, TableResult, convert, output_stem
from lakegate.lake._ingest import StagedBatch, file_sha256, stage_file
from lakegate.lake._location import TableLocation, as_location, disk_problem
from lakegate.lake._quarantine import QuarantineEntry, drop_entry, quarantine_file, read_entry
from lakegate.lake._stats import profile_parquet
from lakegate.lake._table import (
    TableWrite,
    WriteMode,
    batch_frame,
    export_version,
    restore_to,
    scan_version,
    table_schema,
    write_batch,
)

__all__ = [
    "FORMATS",
    "Compacted",
    "ConvertResult",
    "OutputFormat",
    "QuarantineEntry",
    "StagedBatch",
    "TableLocation",
    "TableResult",
    "TableWrite",
    "WriteMode",
    "as_location",
    "batch_frame",
    "compact_table",
    "convert",
    "disk_problem",
    "drop_entry",
    "export_version",
    "file_sha256",
    "output_stem",
    "profile_parquet",
    "quarantine_file",
    "read_entry",
    "restore_to",
    "scan_version",
    "stage_file",
    "table_file_count",
    "table_schema",
    "write_batch",
]
