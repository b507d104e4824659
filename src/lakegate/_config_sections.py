"""The sections of ``lakegate.yaml`` (``runs:``, ``web:``, ``streams:``, ``email:``, ``datasets:``).

Each is a frozen pydantic model that refuses unknown keys; :class:`lakegate.config.Settings`
holds them and re-exports them, so ``from lakegate.config import RunSettings`` stays the way
to import them.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DatasetSettings",
    "EmailSettings",
    "ExportPolicySettings",
    "ExportSettings",
    "MonitoringSettings",
    "OpenLineageSettings",
    "ReaderSettings",
    "RunSettings",
    "StreamSettings",
    "WebSettings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSettings(_Section):
    """How runs are leased, heartbeated and reaped (see ``lakegate_server.jobs``)."""

    heartbeat_seconds: float = Field(10.0, gt=0)
    lease_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    queued_timeout_seconds: float = Field(600.0, gt=0)
    reap_interval_seconds: float = Field(5.0, gt=0)
    # A run whose job raised a transient error (a lake or source down, a lost connection)
    # waits before its next attempt, doubling each time: an outage of a minute or two must
    # not burn every attempt within seconds. 0 retries at once.
    retry_delay_seconds: float = Field(10.0, ge=0)
    retry_max_delay_seconds: float = Field(300.0, ge=0)

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based) before the next one.

        ``min(retry_delay_seconds * 2 ** (attempt - 1), retry_max_delay_seconds)``.
        """
        if self.retry_delay_seconds == 0:
            return 0.0
        # 2 ** 64 is past any sensible cap, and a much bigger power would overflow the float.
        doublings = min(max(attempt - 1, 0), 64)
        return min(math.ldexp(self.retry_delay_seconds, doublings), self.retry_max_delay_seconds)

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> RunSettings:
        # Two missed heartbeats must not lose the lease, or a slow disk reaps healthy runs.
        if self.lease_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("runs.lease_seconds must be at least 2 x runs.heartbeat_seconds")
        return self


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_upload_bytes: int = Field(1024**3, gt=0)
    # /healthz reports the disk as down below this much free space in the project folder.
    min_free_disk_bytes: int = Field(100 * 1024**2, ge=0)
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"])
    # Request limits, enforced in front of every route while the request streams in.
    max_request_bytes: int = Field(
        10 * 1024**2,
        gt=0,
        description="Largest body of a request other than an upload or a stream push (413).",
    )
    max_header_bytes: int = Field(64 * 1024, ge=4096, description="Largest request line + headers (431).")
    header_timeout_seconds: float = Field(
        10.0, gt=0, le=600, description="A request's headers must arrive within this time (then 408)."
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="Longest wait for the next chunk of a request body (then 408)."
    )
    keep_alive_seconds: float = Field(
        5.0, gt=0, le=600, description="An idle keep-alive connection is closed."
    )
    # Failed logins and bad API tokens: after this many within the window, 429 with Retry-After.
    login_failure_limit: int = Field(
        10, ge=1, description="Failed dashboard logins per client address, and per username, per window."
    )
    token_failure_limit: int = Field(30, ge=1, description="Bad API tokens per client address per window.")
    failure_window_seconds: int = Field(
        900, ge=1, le=86400, description="The window failures are counted in."
    )
    # The production profile: the site is reached over HTTPS (directly or through a proxy).
    tls: bool = Field(
        False,
        description="Served over HTTPS: HSTS, HTTP->HTTPS redirect, secure cookies, a strong secret key.",
    )
    proxy_ips: list[str] = Field(
        default_factory=list,
        description="Reverse proxies in front of lakegate (addresses or CIDR ranges): their X-Forwarded-For "
        "and X-Forwarded-Proto headers are trusted. Empty: no proxy, the headers are ignored.",
    )
    hsts_seconds: int = Field(31_536_000, ge=0, description="Strict-Transport-Security max-age (with tls).")
    hsts_include_subdomains: bool = True
    hsts_preload: bool = True
    access_log: bool = Field(
        True,
        description="One JSON line per HTTP request in logs/access.jsonl: request id, method, route "
        "template, status, duration, token name or user, bytes in/out.",
    )
    processes: int = Field(
        1,
        ge=1,
        le=64,
        description="Web server processes sharing the port (uvicorn workers); one per core serves the most.",
    )


class ExportSettings(_Section):
    """An export run after each accepted version (``datasets: {NAME: {exports: [...]}}``)."""

    to: str = Field(..., description="postgresql://... or env:VAR holding it, or dlt:<destination>.")
    table: str = Field(..., min_length=1, max_length=63)
    mode: Literal["append", "replace", "merge"] = "append"
    key: list[str] = Field(default_factory=list, description="Merge key columns (mode: merge).")
    db_schema: str | None = Field(None, alias="schema", description="Target schema (default: the server's).")

    @model_validator(mode="after")
    def _merge_has_key(self) -> ExportSettings:
        if self.mode == "merge" and not self.key:
            raise ValueError("mode merge needs key: [column, ...]")
        return self


class ExportPolicySettings(_Section):
    """``exports:``: what export targets given by users (the API, ``lakegate export --to``) may name.

    Targets declared under ``datasets.<name>.exports`` are the operator's and are not limited here;
    where a user's PostgreSQL URL may connect is the ``outbound:`` policy.
    """

    allowed_env: list[str] = Field(
        default_factory=list,
        description="Environment variables a user may name as `to: env:NAME` (each holds a PostgreSQL URL).",
    )

    allowed_dlt: list[str] = Field(
        default_factory=list,
        description="dlt destinations a user may name as `to: dlt:NAME` (dlt reads their credentials).",
    )

    @field_validator("allowed_dlt")
    @classmethod
    def _dlt_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"exports.allowed_dlt: {name!r} is not a dlt destination name")
        return names

    @field_validator("allowed_env")
    @classmethod
    def _export_variables_only(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"exports.allowed_env: {name!r} is not an environment variable name")
            # lakegate's own settings (the catalog's URL, the secret key) are never export targets.
            if name.upper().startswith("LAKEGATE_") and not name.upper().startswith("LAKEGATE_EXPORT_"):
                raise ValueError(
                    f"exports.allowed_env: {name} is one of lakegate's own settings, not an export target "
                    "(name the warehouse's variable, e.g. WAREHOUSE_URL or LAKEGATE_EXPORT_WAREHOUSE)"
                )
        return names


class StreamSettings(_Section):
    """Pushed records (``POST /api/v1/streams/{dataset}/records``, ``lakegate stream consume``).

    Records are written ahead to segment files on disk (fsynced before they are acknowledged),
    sealed by size or age, and flushed by the scheduler as one dataset version per batch.
    """

    flush_seconds: float = Field(5.0, gt=0, le=3600, description="Seal a segment this old; flush it.")
    segment_records: int = Field(200_000, ge=1, description="Seal a segment at this many records.")
    batch_records: int = Field(1_000_000, ge=1, description="At most this many records per version.")
    max_body_bytes: int = Field(16 * 1024**2, gt=0, description="Largest accepted request body (HTTP 413).")
    max_records_per_request: int = Field(100_000, ge=1)
    fsync: bool = Field(True, description="fsync each append before acknowledging (durability).")
    check: bool = Field(True, description="Run the quality gate on each flushed batch.")
    compact_min_files: int = Field(
        64, ge=2, description="Compact a stream dataset's table once it has this many data files."
    )
    compact_target_bytes: int = Field(128 * 1024**2, gt=0)


class MonitoringSettings(_Section):
    """Production monitoring (``monitoring:`` in lakegate.yaml): online predictions recorded.

    Each model's online predictions (inputs and outputs) are appended to the dataset
    ``<model>_online_predictions`` through the stream write-ahead log. Up to ``record_rate``
    records a second per model are all kept; above it, a request is kept with probability
    ``record_sample`` (a request is kept or dropped whole).
    """

    record_predictions: bool = Field(True, description="Record online predictions (inputs + outputs).")
    record_rate: float = Field(100.0, ge=0, description="Records a second per model always recorded.")
    record_sample: float = Field(0.1, ge=0, le=1, description="Share of requests recorded above the rate.")
    record_flush_seconds: float = Field(
        1.0, gt=0, le=60, description="Recorded predictions are appended to the log this often."
    )
    record_buffer: int = Field(
        100_000, ge=1, description="Records held in memory at most; beyond it new ones are dropped (logged)."
    )
    drift_cron: str | None = Field(
        "0 * * * *", description="When scoring drift runs for each champion with new predictions (UTC)."
    )
    drift_severity: dict[str, Literal["pass", "warn", "fail"]] = Field(
        default_factory=dict,
        description="Severity overrides of scoring drift's reason codes (label_drift is the prediction's).",
    )
    drift_max_rows: int | None = Field(
        None, ge=1000, description="Hash-sample the new predictions above this many rows."
    )


class OpenLineageSettings(_Section):
    """OpenLineage events of every run (``openlineage:`` in lakegate.yaml).

    START, COMPLETE and FAIL events (the spec's JSON) are written to each run's log; with
    ``url`` they are also POSTed there (Marquez: ``http://host:5000/api/v1/lineage``) under
    the project's ``outbound:`` policy, like notifiers (public addresses only by default).
    """

    enabled: bool = Field(True, description="Write OpenLineage events to the run logs.")
    url: str | None = Field(None, description="Also POST each event here.")
    namespace: str = Field("lakegate", min_length=1, max_length=200)
    api_key_env: str | None = Field(None, description="Environment variable holding a bearer token.")


class EmailSettings(_Section):
    """The SMTP server e-mail notifications go through (``email:`` in lakegate.yaml).

    The password is never in the file: ``password_env`` names the environment variable
    holding it. Environment overrides: ``LAKEGATE_EMAIL__HOST``, ``LAKEGATE_EMAIL__PORT``, ...
    """

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field(
        "none", description="starttls: upgrade a plain connection (port 587); tls: TLS from the start (465)."
    )
    username: str | None = None
    password_env: str | None = Field(None, description="Environment variable holding the SMTP password.")
    from_address: str = Field("lakegate@localhost", alias="from", description="The From: address.")
    timeout_seconds: float = Field(10.0, gt=0, le=300)

    @model_validator(mode="after")
    def _login_is_whole_and_private(self) -> EmailSettings:
        # Django logs in only with both; one without the other would quietly send unauthenticated.
        if bool(self.username) != bool(self.password_env):
            raise ValueError("email.username and email.password_env go together (set both, or neither)")
        loopback = self.host in ("localhost", "127.0.0.1", "::1")
        if self.password_env and self.security == "none" and not loopback:
            raise ValueError(
                f"email: logging in to {self.host} with security: none would send the password in clear; "
                "use security: starttls (port 587) or tls (port 465)"
            )
        return self


class DatasetSettings(_Section):
    """Per-dataset settings under ``datasets: {NAME: ...}`` in lakegate.yaml."""

    types: dict[str, str] = Field(
        default_factory=dict,
        description="Column type overrides for ingest: int, float, bool, date, datetime, string, "
        "categorical; dates may carry a format, e.g. 'date:%d.%m.%Y'.",
    )
    sheet: str | None = Field(None, description="Sheet or table to take from workbooks and PDFs.")
    contract: dict[str, Any] | str | None = Field(
        None, description="The data contract: a mapping, or a YAML file relative to the project."
    )
    checks: list[dict[str, Any]] | None = Field(
        None, description="Check configs; default: schema, contract, drift, text drift, anomalies."
    )
    target: str | None = Field(None, description="The label column (its drift is reported as label drift).")
    policy: Literal["fail", "warn"] = Field(
        "fail", description="On a failed gate: 'fail' keeps the version but rejects it; 'warn' accepts it."
    )
    reference: str = Field(
        "last_accepted",
        pattern=r"^(last_accepted|window:[1-9][0-9]*|[1-9][0-9]*)$",
        description="What new versions are compared with: last_accepted, window:N, or a version number.",
    )
    exports: list[ExportSettings] = Field(
        default_factory=list, description="Warehouse exports queued after each accepted version."
    )


class ReaderSettings(_Section):
    """``readers:``: what one input file may cost (lakegate.formats.ReaderLimits); a file past
    a limit is refused and quarantined with a reason naming the setting."""

    max_columns: int = Field(16_384, gt=0, description="Columns of one table (Excel's own limit).")
    max_line_bytes: int = Field(
        64 * 1024**2, ge=1024**2, description="Longest line of a text file (CSV, TSV, JSON lines)."
    )
    max_json_depth: int = Field(64, gt=0, description="How deeply JSON objects and arrays may nest.")
    max_seconds: float = Field(
        25.0, gt=0, description="Time one PDF or legacy .xls may take to parse (in a child process)."
    )
    max_memory_bytes: int = Field(
        512 * 1024**2, ge=64 * 1024**2, description="Heap of the child process parsing one PDF or .xls."
    )
    max_archive_bytes: int = Field(
        16 * 1024**3, gt=0, description="Bytes one archive (.gz, .zip, xlsx, ods) may expand to."
    )
