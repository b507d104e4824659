"""Typed settings: ``lakegate.yaml`` overlaid by ``LAKEGATE_*`` environment variables.

This is the one place settings are read. Precedence, highest first:

1. environment variables, ``LAKEGATE_<FIELD>`` and ``LAKEGATE_<SECTION>__<FIELD>``
   (``LAKEGATE_DATABASE_URL``, ``LAKEGATE_RUNS__LEASE_SECONDS``);
2. ``lakegate.yaml`` in the project folder;
3. the defaults below.

The project folder is ``LAKEGATE_PROJECT_DIR`` or the nearest folder at or above the
current directory that holds a ``lakegate.yaml``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lakegate.errors import ConfigError, ProjectNotFoundError

if TYPE_CHECKING:
    from lakegate.lake import TableLocation

__all__ = [
    "CONFIG_FILE",
    "STATE_DIR",
    "DatasetSettings",
    "EmailSettings",
    "ExportSettings",
    "ProjectPaths",
    "RunSettings",
    "Settings",
    "StreamSettings",
    "WebSettings",
    "find_project_dir",
    "load_settings",
]

CONFIG_FILE = "lakegate.yaml"
STATE_DIR = ".lakegate"


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


class Settings(BaseSettings):
    """Everything lakegate reads from its configuration, typed and validated."""

    model_config = SettingsConfigDict(
        env_prefix="LAKEGATE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    project_dir: Path
    env: str = "dev"
    database_url: str | None = None
    redis_url: str | None = None
    # Queue name inside the storage: lets several projects (or test runs) share one Redis.
    queue_name: str = "lakegate"
    secret_key: str | None = None
    log_level: str = "INFO"
    debug: bool = False
    runs: RunSettings = RunSettings()
    web: WebSettings = WebSettings()
    datasets: dict[str, DatasetSettings] = Field(default_factory=dict)
    # Validated by their own loaders (lakegate.pipelines / lakegate.notify), which name the
    # pipeline and field in their errors.
    pipelines: dict[str, Any] = Field(default_factory=dict)
    environments: dict[str, Any] = Field(default_factory=dict)
    notifiers: dict[str, Any] = Field(default_factory=dict)
    # REST/SQL/S3 sources (validated by lakegate.sources.load_sources, naming source and field).
    sources: dict[str, Any] = Field(default_factory=dict)
    # Where user-configured URLs (sources) may point: lakegate.notify's OutboundPolicy fields.
    outbound: dict[str, Any] = Field(default_factory=dict)
    streams: StreamSettings = StreamSettings()
    email: EmailSettings = EmailSettings()
    # Knowledge bases searchable through the API: name -> kb.jsonl (relative to the project).
    knowledge_bases: dict[str, Path] = Field(default_factory=dict)
    # Where datasets' Delta tables live: None is the project's .lakegate/lake; "s3://bucket/prefix"
    # puts each at s3://bucket/prefix/<dataset>; a folder (relative to the project) or file:// URI.
    # Everything else (database, quarantine, uploads, streams, artifacts) stays in the project.
    lake: str | None = None
    # object_store options for an s3:// lake (aws_endpoint_url, aws_region, aws_allow_http, ...);
    # credentials normally come from the standard AWS_* environment variables. Operator config:
    # the endpoint is not a user URL, so the outbound policy does not apply to it.
    # Bounded by default so an unreachable lake fails in seconds, not minutes (object_store's
    # own retry budget is 3 minutes a request): connect_timeout "5s", timeout "30s" (a whole
    # request), retry_timeout "10s" (CLIENT_DEFAULTS in lakegate.lake._location); any set here wins,
    # and so does max_retries (a whole number; object_store's default is 10).
    lake_storage_options: dict[str, str] = Field(default_factory=dict)

    @field_validator("lake")
    @classmethod
    def _lake_is_s3_or_a_folder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme == "s3":
            rest = value.split("://", 1)[1].rstrip("/")
            if not rest.split("/", 1)[0]:
                raise ValueError(f"{value!r} names no bucket; use s3://bucket/prefix")
            return f"s3://{rest}"
        if scheme not in (None, "file") or not value:
            raise ValueError(f"{value!r}: use s3://bucket/prefix, file:///folder or a folder path")
        if scheme == "file" and not value.startswith("file:///"):
            raise ValueError(f"{value!r}: a file:// lake needs an absolute path (file:///folder)")
        return value

    @field_validator("lake_storage_options", mode="before")
    @classmethod
    def _scalars_as_strings(cls, value: Any) -> Any:
        # object_store takes strings; YAML reads `max_retries: 5` as an int, `true` as a bool.
        if not isinstance(value, dict):
            return value
        return {
            key: (str(v).lower() if isinstance(v, bool) else str(v)) if isinstance(v, int | float) else v
            for key, v in value.items()
        }

    @field_validator("lake_storage_options")
    @classmethod
    def _timeouts_are_durations(cls, value: dict[str, str]) -> dict[str, str]:
        # delta-rs would only say "Failed to parse config" at the first ingest.
        if not value:
            return value
        from lakegate.lake._location import DURATION_KEYS, parse_duration

        for key, setting in value.items():
            if key in DURATION_KEYS:
                try:
                    parse_duration(setting)
                except ValueError as exc:
                    raise ValueError(f"lake_storage_options.{key}: {exc}") from None
            elif key == "max_retries" and not setting.strip().isdigit():
                raise ValueError(f"lake_storage_options.max_retries: {setting!r} is not a whole number")
        return value

    @model_validator(mode="after")
    def _storage_options_need_s3(self) -> Settings:
        if self.lake_storage_options and not (self.lake or "").startswith("s3://"):
            raise ValueError("lake_storage_options applies only to an s3:// lake")
        return self

    def lake_table(self, name: str) -> Path | TableLocation:
        """Where dataset ``name``'s Delta table lives: a local folder or an ``s3://`` location.

        An ``s3://`` location carries ``lake_storage_options`` over the client defaults that
        bound its timeouts and retries (:attr:`TableLocation.options`).
        """
        if self.lake is None:
            return self.paths.lake / name
        if self.lake.startswith("s3://"):
            from lakegate.lake import TableLocation

            return TableLocation(self.lake, self.lake_storage_options).child(name)
        folder = Path(self.lake.removeprefix("file://")).expanduser()
        return (folder if folder.is_absolute() else self.project_dir / folder) / name

    def knowledge_base(self, name: str) -> Path | None:
        path = self.knowledge_bases.get(name)
        return None if path is None else (path if path.is_absolute() else self.project_dir / path)

    def dataset(self, name: str) -> DatasetSettings:
        """The settings of dataset ``name`` (defaults when it has none)."""
        return self.datasets.get(name) or DatasetSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init kwargs; the environment must win over it.
        return env_settings, init_settings

    @property
    def paths(self) -> ProjectPaths:
        return ProjectPaths(self.project_dir)


@dataclass(frozen=True)
class ProjectPaths:
    """Where a project keeps its state (``lakegate init`` creates these)."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def database(self) -> Path:
        return self.state / "db.sqlite3"

    @property
    def queue(self) -> Path:
        return self.state / "queue.sqlite3"

    @property
    def secret_key_file(self) -> Path:
        return self.state / "secret_key"

    @property
    def lake(self) -> Path:
        return self.state / "lake"

    @property
    def uploads(self) -> Path:
        """Files staged for an ``ingest`` run (uploads, claimed inbox drops)."""
        return self.state / "uploads"

    @property
    def artifacts(self) -> Path:
        return self.state / "artifacts"

    @property
    def inbox(self) -> Path:
        return self.state / "inbox"

    @property
    def quarantine(self) -> Path:
        return self.state / "quarantine"

    @property
    def streams(self) -> Path:
        """Write-ahead segments of pushed records, per dataset (see ``lakegate.streams``)."""
        return self.state / "streams"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run_logs(self) -> Path:
        return self.logs / "runs"

    def folders(self) -> tuple[Path, ...]:
        return (
            self.state,
            self.lake,
            self.artifacts,
            self.inbox,
            self.quarantine,
            self.uploads,
            self.streams,
            self.logs,
            self.run_logs,
        )


def find_project_dir(start: Path | None = None) -> Path:
    """Return the project folder: ``LAKEGATE_PROJECT_DIR`` or the nearest ``lakegate.yaml``."""
    explicit = os.environ.get("LAKEGATE_PROJECT_DIR")
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not (path / CONFIG_FILE).is_file():
            raise ProjectNotFoundError(
                f"LAKEGATE_PROJECT_DIR={explicit} holds no {CONFIG_FILE}; "
                f"run `lakegate init {explicit}` first"
            )
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ProjectNotFoundError(
        f"no {CONFIG_FILE} in {here} or its parents; run `lakegate init` there or set LAKEGATE_PROJECT_DIR"
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    return data


def load_settings(project_dir: Path | None = None) -> Settings:
    """Load and validate the settings of the project at ``project_dir`` (or the one found)."""
    root = (project_dir or find_project_dir()).resolve()
    config_file = root / CONFIG_FILE
    data = _read_yaml(config_file) if config_file.is_file() else {}
    data.pop("project_dir", None)
    try:
        settings = Settings(project_dir=root, **data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(
            f"{config_file}: invalid settings:\n  " + "\n  ".join(lines),
            detail=[{"field": line.split(":", 1)[0], "message": line} for line in lines],
        ) from exc
    if settings.secret_key is None and settings.paths.secret_key_file.is_file():
        key = settings.paths.secret_key_file.read_text(encoding="utf-8").strip()
        settings = settings.model_copy(update={"secret_key": key})
    return settings
