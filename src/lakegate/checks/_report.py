"""The check report: every check's result, one verdict, a stable JSON form, ``save`` anywhere.

JSON schema (version :data:`SCHEMA_VERSION`): ``report.schema.json`` next to this module,
generated from these models by :func:`report_json_schema`. Within a schema version fields
are only ever added (readers must ignore unknown fields); renaming or removing one, or
changing a reason code, bumps ``schema_version``.

Verdict: the report's ``status`` is the worst status among its checks (``fail`` > ``warn``
> ``pass``); skipped checks do not count, so a report whose checks all skipped passes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakegate._atomic import write_bytes_atomic
from lakegate.checks._results import CheckResult
from lakegate.checks._types import Reason, Status, worst
from lakegate.errors import InputError, QualityGateError

__all__ = ["SCHEMA_VERSION", "CheckReport", "ReferenceInfo", "build_report", "report_json_schema", "save"]

SCHEMA_VERSION: Final = 1
SCHEMA_PATH: Final = Path(__file__).with_name("report.schema.json")
ReportFormat = Literal["json", "html"]


class ReferenceInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    versions: tuple[str, ...] = ()
    rows: int | None = None
    sample_rows: int | None = None


class CheckReport(BaseModel):
    """The outcome of a quality gate run over one batch."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="LakegateCheckReport")

    schema_version: Literal[1] = SCHEMA_VERSION
    report: Literal["lakegate.check_report"] = "lakegate.check_report"
    dataset: str | None = None
    version: str | None = None
    reference: ReferenceInfo | None = None
    created_at: datetime
    status: Status
    counts: dict[Status, int] = Field(description="checks per status")
    seconds: float = 0.0
    checks: tuple[CheckResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict (see ``report.schema.json``)."""
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckReport:
        """Read a stored report back (to re-render it, or compare runs)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"not a lakegate check report: {exc.errors()[0]['msg']}") from exc

    @property
    def passed(self) -> bool:
        return self.status != Status.FAIL

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for check in self.checks for reason in check.reasons)

    def result(self, name: str) -> CheckResult | None:
        """The result of the check with this name (or kind)."""
        return next((c for c in self.checks if name in {c.name, c.kind}), None)

    def raise_for_status(self) -> None:
        """Raise :class:`~lakegate.errors.QualityGateError` (CLI exit 3) when the gate failed."""
        if self.status != Status.FAIL:
            return
        failing = [r for r in self.reasons if r.status == Status.FAIL]
        first = "; ".join(r.message for r in failing[:3])
        more = f" (+{len(failing) - 3} more)" if len(failing) > 3 else ""
        where = f"{self.dataset} " if self.dataset else ""
        raise QualityGateError(
            f"quality gate failed for {where}{self.version or 'batch'}: {first}{more}",
            detail={"status": self.status.value, "reasons": [r.model_dump(mode="json") for r in failing]},
        )


def build_report(
    results: Iterable[CheckResult],
    *,
    dataset: str | None = None,
    version: str | None = None,
    reference: ReferenceInfo | None = None,
    seconds: float = 0.0,
    created_at: datetime | None = None,
) -> CheckReport:
    """Aggregate check results into a report (see the module docstring for the verdict)."""
    checks = tuple(results)
    counts = {status: sum(1 for c in checks if c.status == status) for status in Status}
    return CheckReport(
        dataset=dataset,
        version=version,
        reference=reference,
        created_at=created_at or datetime.now(UTC),
        status=worst((c.status for c in checks if c.status != Status.SKIP), default=Status.PASS),
        counts=counts,
        seconds=round(seconds, 4),
        checks=checks,
    )


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of :meth:`CheckReport.to_dict` (what ``report.schema.json`` holds)."""
    schema = CheckReport.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:lakegate:check-report:{SCHEMA_VERSION}",
        **schema,
    }


def save(
    report: CheckReport,
    target: str | Path | IO[str] | IO[bytes],
    *,
    format: ReportFormat | None = None,  # noqa: A002 - the natural name for callers
) -> None:
    """Write ``report`` as JSON or HTML to a path (atomically) or an open text/binary stream.

    The format comes from ``format``, else the suffix (``.json``, ``.html``/``.htm``), else JSON.
    """
    name = str(target) if isinstance(target, str | Path) else str(getattr(target, "name", ""))
    chosen = format or _format_of(name)
    if chosen == "html":
        from lakegate.checks._html import render_html

        text = render_html(report)
    else:
        text = report.to_json()
    if isinstance(target, str | Path):
        _write_atomically(Path(target), text)
    else:
        _write_stream(target, text)


def _format_of(name: str) -> ReportFormat:
    suffix = Path(name).suffix.lower()
    if suffix in {".html", ".htm"}:
        return "html"
    if suffix in {".json", ""} or not name:
        return "json"
    raise InputError(f"{name}: cannot tell the report format from {suffix!r}: use .json or .html, or format=")


def _write_atomically(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _write_stream(stream: IO[str] | IO[bytes], text: str) -> None:
    """Text streams get ``str``, binary ones UTF-8 ``bytes`` (told by type, mode, or by trying)."""
    binary = isinstance(stream, io.RawIOBase | io.BufferedIOBase) or "b" in str(getattr(stream, "mode", ""))
    if binary:
        cast("IO[bytes]", stream).write(text.encode("utf-8"))
        return
    try:
        cast("IO[str]", stream).write(text)
    except TypeError:
        cast("IO[bytes]", stream).write(text.encode("utf-8"))
