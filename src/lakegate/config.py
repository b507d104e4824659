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

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lakegate._config_sections import (
    DatasetSettings,
    EmailSettings,
    ExportPolicySettings,
    ExportSettings,
    MonitoringSettings,
    OpenLineageSettings,
    ReaderSettings,
    RunSettings,
    StreamSettings,
    WebSettings,
)
from lakegate.errors import ConfigError, ProjectNotFoundError

if TYPE_CHECKING:
    from lakegate.formats import ArchiveLimits, ReaderLimits
    from lakegate.lake import TableLocation

__all__ = [
    "CONFIG_FILE",
    "STATE_DIR",
    "DatasetSettings",
    "EmailSettings",
    "ExportPolicySettings",
    "ExportSettings",
    "MonitoringSettings",
    "OpenLineageSettings",
    "ProjectPaths",
    "ReaderSettings",
    "RunSettings",
    "Settings",
    "StreamSettings",
    "WebSettings",
    "find_project_dir",
    "load_settings",
    "reader_limits",
]

CONFIG_FILE = "lakegate.yaml"
STATE_DIR = ".lakegate"


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
    # Where user-configured URLs (sources, export targets) may point: lakegate.notify's OutboundPolicy fields.
    outbound: dict[str, Any] = Field(default_factory=dict)
    # What export targets given by users may name (env: variables); see lakegate.export.
    exports: ExportPolicySettings = ExportPolicySettings()
    streams: StreamSettings = StreamSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    openlineage: OpenLineageSettings = OpenLineageSettings()
    email: EmailSettings = EmailSettings()
    # What one input file may cost a reader: columns, line length, JSON depth, a PDF's time and memory.
    readers: ReaderSettings = ReaderSettings()
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
    # Where shared state lives (model artifacts, staged uploads, quarantine, knowledge bases,
    # prediction files, run logs; see lakegate.storage): None is the project's .lakegate/
    # folder; "s3://bucket/prefix" an object store every host reaches; a folder (relative to
    # the project) or file:// URI. The catalog database and the lake are set on their own.
    storage: str | None = None
    # The same object_store keys and client defaults as lake_storage_options, for an s3://
    # storage; credentials normally come from the standard AWS_* environment variables.
    storage_options: dict[str, str] = Field(default_factory=dict)
    # What a decimal GB of storage costs a month, in your currency, for the savings report's
    # cost line (`lakegate stats`, GET /api/v1/stats, the dashboard). 0.023 is S3 Standard's
    # first-tier list price in USD.
    price_per_gb_month: float = Field(default=0.023, ge=0)

    @field_validator("lake", "storage")
    @classmethod
    def _s3_or_a_folder(cls, value: str | None, info: ValidationInfo) -> str | None:
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
            raise ValueError(
                f"{value!r}: a file:// {info.field_name} needs an absolute path (file:///folder)"
            )
        return value

    @field_validator("lake_storage_options", "storage_options", mode="before")
    @classmethod
    def _scalars_as_strings(cls, value: Any) -> Any:
        # object_store takes strings; YAML reads `max_retries: 5` as an int, `true` as a bool.
        if not isinstance(value, dict):
            return value
        return {
            key: (str(v).lower() if isinstance(v, bool) else str(v)) if isinstance(v, int | float) else v
            for key, v in value.items()
        }

    @field_validator("lake_storage_options", "storage_options")
    @classmethod
    def _timeouts_are_durations(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # delta-rs would only say "Failed to parse config" at the first ingest.
        if not value:
            return value
        from lakegate.lake._location import DURATION_KEYS, parse_duration

        for key, setting in value.items():
            if key in DURATION_KEYS:
                try:
                    parse_duration(setting)
                except ValueError as exc:
                    raise ValueError(f"{info.field_name}.{key}: {exc}") from None
            elif key == "max_retries" and not setting.strip().isdigit():
                raise ValueError(f"{info.field_name}.max_retries: {setting!r} is not a whole number")
        return value

    @model_validator(mode="after")
    def _storage_options_need_s3(self) -> Settings:
        if self.lake_storage_options and not (self.lake or "").startswith("s3://"):
            raise ValueError("lake_storage_options applies only to an s3:// lake")
        if self.storage_options and not (self.storage or "").startswith("s3://"):
            raise ValueError("storage_options applies only to an s3:// storage")
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


def reader_limits(settings: Settings) -> tuple[ArchiveLimits, ReaderLimits]:
    """The archive and reader limits of ``settings.readers``, for :func:`lakegate.lake.stage_file`."""
    from lakegate.formats import ArchiveLimits, ReaderLimits

    readers = settings.readers
    return (
        ArchiveLimits(max_bytes=readers.max_archive_bytes),
        ReaderLimits(
            max_columns=readers.max_columns,
            max_line_bytes=readers.max_line_bytes,
            max_json_depth=readers.max_json_depth,
            max_seconds=readers.max_seconds,
            max_memory_bytes=readers.max_memory_bytes,
        ),
    )
