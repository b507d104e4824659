"""One error tree for everything lakegate reports to a user.

    LakegateError                    every user-facing failure (CLI exit 1, HTTP 400)
     ├── ConfigError                 lakegate.yaml / LAKEGATE_* settings are wrong
     │    └── ProjectNotFoundError   no lakegate project where we looked
     ├── MissingExtraError           an optional extra is not installed (names the pip line)
     ├── InputError                  a request or file the user gave us is wrong (HTTP 422)
     │    ├── ReaderError            a file could not be read as its format
     │    └── PayloadTooLargeError   an upload is over the size limit (HTTP 413)
     ├── NotFoundError               a named thing does not exist (HTTP 404)
     ├── ConflictError               the request clashes with current state (HTTP 409)
     ├── QualityGateError           a quality gate said "fail" (CLI exit 3)
     ├── PipelineError               a pipeline step failed on its data
     ├── ModelError                  a model could not be trained, saved or loaded (integrity)
     ├── NotificationError           a notification was not delivered (or its URL is unsafe)
     ├── SourceError                 a source (REST/SQL/S3) could not be fetched, or its URL is unsafe
     │    └── TransientSourceError   ... and trying again later may work (timeouts, 5xx, 429)
     ├── StreamError                 pushed records could not be accepted or flushed
     ├── ExportError                 a table could not be exported to its destination
     │    └── TransientExportError   ... because the destination could not be reached (retried)
     ├── LakeError                   the lake refused a read or write (HTTP 500: the operator's to fix)
     │    └── LakeUnavailableError   ... its object store gave no answer (HTTP 503, retried)
     ├── StorageUnavailableError     the shared-state storage gave no answer (HTTP 503, retried)
     └── JobError                    a job failed while running
          ├── TransientJobError      ... in a way that may pass (retried)
          └── LeaseLostError         this worker no longer owns the run; stop now

Retry policy is carried by the ``Transient`` mixin: only errors marked transient
(a database that went away, a lost connection, a lake that does not answer) are retried
by the job runner. They say nothing about the data being processed.
Library errors are translated into this tree at one seam, ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConfigError",
    "ConflictError",
    "ExportError",
    "InputError",
    "JobError",
    "LakeError",
    "LakeUnavailableError",
    "LakegateError",
    "LeaseLostError",
    "MissingExtraError",
    "ModelError",
    "NotFoundError",
    "NotificationError",
    "PayloadTooLargeError",
    "PipelineError",
    "ProjectNotFoundError",
    "QualityGateError",
    "ReaderError",
    "SourceError",
    "StorageUnavailableError",
    "StreamError",
    "Transient",
    "TransientExportError",
    "TransientJobError",
    "TransientSourceError",
]


class LakegateError(Exception):
    """Base of every error lakegate shows to a user.

    ``code`` is a stable machine-readable string (the API's ``error.code``),
    ``detail`` carries structured context (the API's ``error.detail``).
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class Transient:
    """Mixin: the failure may go away by itself, so the job runner retries it."""


class ConfigError(LakegateError):
    code = "config_error"
    http_status = 500


class ProjectNotFoundError(ConfigError):
    code = "project_not_found"


class MissingExtraError(LakegateError):
    """An optional feature needs a package that is not installed."""

    code = "missing_extra"
    http_status = 501

    def __init__(self, feature: str, *, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: pip install 'lakegate[{extra}]'",
            detail={"extra": extra, "package": package},
        )


class InputError(LakegateError):
    code = "invalid_input"
    http_status = 422


class ReaderError(InputError):
    """A file could not be read; ``path`` names it and ``reason`` says why."""

    code = "unreadable_file"

    def __init__(self, path: str, reason: str, *, detail: Any = None) -> None:
        super().__init__(f"{path}: {reason}", detail=detail)
        self.path = path
        self.reason = reason


class PayloadTooLargeError(InputError):
    code = "payload_too_large"
    http_status = 413


class NotFoundError(LakegateError):
    code = "not_found"
    http_status = 404


class ConflictError(LakegateError):
    code = "conflict"
    http_status = 409


class QualityGateError(LakegateError):
    code = "quality_gate_failed"
    exit_code = 3


class PipelineError(LakegateError):
    """A pipeline step failed on its data; ``detail`` names the pipeline and step."""

    code = "pipeline_failed"


class ModelError(LakegateError):
    """A model could not be trained, saved or loaded (a hash mismatch, an untrusted type)."""

    code = "model_error"


class NotificationError(LakegateError):
    """A notification was not delivered, or its URL points somewhere it must not."""

    code = "notification_failed"
    http_status = 502


class SourceError(LakegateError):
    """A source could not be fetched (its server, query or bucket failed, or its URL is unsafe)."""

    code = "source_failed"
    http_status = 502


class TransientSourceError(Transient, SourceError):
    """A source failed in a way that may pass (timeout, HTTP 429/5xx, a dropped connection)."""

    code = "source_failed_transient"


class StreamError(LakegateError):
    """Pushed records could not be accepted (bad body) or written."""

    code = "stream_error"
    http_status = 422


class ExportError(LakegateError):
    """A dataset could not be exported to its destination."""

    code = "export_failed"
    http_status = 502


class TransientExportError(Transient, ExportError):
    """The destination could not be reached; an export run tries again."""

    code = "export_failed_transient"


class LakeError(LakegateError):
    """The lake refused to read or write a Delta table (permissions, a damaged table, a full disk).

    Not the user's file and not the request: the service's storage needs its operator,
    so the API answers 500 with the reason instead of a 400 that blames the caller.
    ``detail`` is ``{"location": ..., "reason": ...}``.
    """

    code = "lake_error"
    http_status = 500


class LakeUnavailableError(Transient, LakeError):
    """The lake's object store gave no HTTP answer (refused, timed out, unknown host).

    The data is not at fault and the same call works once the lake is back: a run retries
    it, and a file being ingested is kept where it is, not quarantined as a bad file.
    ``detail`` is ``{"location": ..., "reason": "unreachable"}``.
    """

    code = "lake_unavailable"
    http_status = 503


class StorageUnavailableError(Transient, LakegateError):
    """The storage of shared state (``storage:``) gave no answer, or only "try later".

    The sibling of :class:`LakeUnavailableError` for model artifacts, uploads, quarantine,
    run logs and other files in ``lakegate.storage``: refused, timed out, unknown host, or
    HTTP 429/5xx once the retries ran out. Nothing is wrong with the data; a run retries it.
    ``detail`` is ``{"location": ..., "key": ..., "reason": "unreachable"}``.
    """

    code = "storage_unavailable"
    http_status = 503


class JobError(LakegateError):
    code = "job_failed"
    http_status = 500


class TransientJobError(Transient, JobError):
    code = "job_failed_transient"


class LeaseLostError(JobError):
    """Raised inside a job when its worker lost the run's lease (reaped or cancelled)."""

    code = "lease_lost"
