"""The ``sources:`` section of ``lakegate.yaml``: one typed model per kind, discriminated on ``kind``.

sources:
  orders:
    kind: rest | sql | s3
    dataset: orders          # the lake dataset each fetched batch becomes a version of
    schedule: "*/15 * * * *" # optional cron; without it the source runs by hand only
    mode: append             # or overwrite
    ...                      # kind-specific keys (docs/sources.md)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from lakegate.errors import ConfigError

__all__ = [
    "FetchedBatch",
    "RestSource",
    "S3Source",
    "SourceSpec",
    "SqlSource",
    "load_sources",
]

_DATASET = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
Scalar = str | int | float | bool


@dataclass(frozen=True)
class FetchedBatch:
    """One staged file to ingest as one dataset version, and the source state to store with it."""

    path: Path
    label: str
    rows: int | None
    bytes: int
    state: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Source(_Strict):
    name: str
    dataset: str = Field(pattern=_DATASET)
    schedule: str | None = None
    mode: Literal["append", "overwrite"] = "append"
    description: str = ""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from croniter import croniter  # type: ignore[import-untyped]

        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r} (e.g. '0 3 * * *')")
        return value


# --- REST -----------------------------------------------------------------------------------


class AuthHeader(_Strict):
    """A secret header read from an environment variable at fetch time (never stored or logged)."""

    header: str = "Authorization"
    env: str = Field(pattern=_ENV)
    prefix: str = ""


class NoPaginator(_Strict):
    type: Literal["none", "auto"]


class PageNumber(_Strict):
    type: Literal["page_number"]
    page_param: str = "page"
    base_page: int = 1
    total_path: str | None = None
    maximum_page: int | None = Field(None, ge=1)


class Offset(_Strict):
    type: Literal["offset"]
    limit: int = Field(100, ge=1)
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_path: str | None = None
    maximum_offset: int | None = Field(None, ge=1)


class Cursor(_Strict):
    type: Literal["cursor"]
    cursor_path: str = "cursors.next"
    cursor_param: str = "cursor"


class HeaderLink(_Strict):
    type: Literal["header_link"]
    links_next_key: str = "next"


class JsonLink(_Strict):
    type: Literal["json_link"]
    next_url_path: str = "next"


Paginator = Annotated[
    NoPaginator | PageNumber | Offset | Cursor | HeaderLink | JsonLink, Field(discriminator="type")
]


class RestIncremental(_Strict):
    cursor_field: str
    param: str
    initial: Scalar | None = None


class RateLimit(_Strict):
    requests_per_second: float = Field(gt=0, le=1000)


class Retries(_Strict):
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_factor: float = Field(1.0, ge=0, le=60)
    max_delay: float = Field(60.0, ge=0, le=3600)


class RestSource(_Source):
    """Paginated JSON over HTTP(S), through dlt's ``RESTClient`` on a pinned, policy-checked session."""

    kind: Literal["rest"] = "rest"
    url: str = Field(pattern=r"^https?://[^\s/]+(/\S*)?$")
    params: dict[str, Scalar] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    auth: AuthHeader | None = None
    paginator: Paginator = NoPaginator(type="auto")
    data_selector: str | None = None
    incremental: RestIncremental | None = None
    rate_limit: RateLimit | None = None
    retries: Retries = Retries()
    max_pages: int | None = Field(None, ge=1)

    @field_validator("paginator", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value


# --- SQL ------------------------------------------------------------------------------------


class SqlIncremental(_Strict):
    cursor_column: str
    initial: Scalar | None = None


class SqlSource(_Source):
    """A query (inline or ``query_file``) against a SQLAlchemy URL (inline or from ``url_env``)."""

    kind: Literal["sql"] = "sql"
    url: str | None = None
    url_env: str | None = Field(None, pattern=_ENV)
    query: str | None = None
    query_file: Path | None = None
    incremental: SqlIncremental | None = None
    batch_rows: int = Field(1_000_000, ge=1)

    @model_validator(mode="after")
    def _one_of(self) -> SqlSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        if (self.query is None) == (self.query_file is None):
            raise ValueError("give exactly one of query or query_file")
        return self


# --- S3 -------------------------------------------------------------------------------------


class S3Source(_Source):
    """New objects under an ``s3://bucket/prefix/``, one batch per object."""

    kind: Literal["s3"] = "s3"
    url: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,62}(/.*)?$")
    endpoint_url: str | None = Field(None, pattern=r"^https?://[^\s/]+/?$")
    region: str | None = None
    access_key_env: str | None = Field(None, pattern=_ENV)
    secret_key_env: str | None = Field(None, pattern=_ENV)
    pattern: str = "*"

    @model_validator(mode="after")
    def _keys(self) -> S3Source:
        if (self.access_key_env is None) != (self.secret_key_env is None):
            raise ValueError("give both access_key_env and secret_key_env, or neither")
        return self

    @property
    def bucket(self) -> str:
        return self.url.removeprefix("s3://").partition("/")[0]

    @property
    def prefix(self) -> str:
        return self.url.removeprefix("s3://").partition("/")[2]

    def matches(self, key: str) -> bool:
        """Whether the key's name (the part after the last ``/``) matches ``pattern``."""
        return fnmatch.fnmatchcase(key.rpartition("/")[2], self.pattern)


SourceSpec = Annotated[RestSource | SqlSource | S3Source, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[RestSource | SqlSource | S3Source] = TypeAdapter(SourceSpec)


def load_sources(
    raw: Mapping[str, Any] | None, project_dir: Path
) -> dict[str, RestSource | SqlSource | S3Source]:
    """Validate the ``sources:`` mapping; ``ConfigError`` names ``sources.<name>.<field>`` and why.

    A ``query_file`` is resolved against ``project_dir`` and must exist.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("sources: must be a mapping of name -> source")
    specs: dict[str, RestSource | SqlSource | S3Source] = {}
    problems: list[dict[str, str]] = []
    for key, body in raw.items():
        name = str(key)
        if not isinstance(body, Mapping):
            problems.append({"source": name, "field": "(source)", "message": "must be a mapping"})
            continue
        try:
            spec = _ADAPTER.validate_python({**body, "name": name})
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error["loc"]]
                if loc and loc[0] in {"rest", "sql", "s3"}:
                    loc = loc[1:]  # the discriminator's tag pydantic puts in front
                if error["type"] in {"union_tag_not_found", "union_tag_invalid"} and not loc:
                    loc = ["kind"]
                problems.append(
                    {
                        "source": name,
                        "field": ".".join(loc) or "(source)",
                        "message": error["msg"].removeprefix("Value error, "),
                    }
                )
            continue
        if isinstance(spec, SqlSource) and spec.query_file is not None:
            path = spec.query_file if spec.query_file.is_absolute() else project_dir / spec.query_file
            if not path.is_file():
                problems.append({"source": name, "field": "query_file", "message": f"no such file: {path}"})
                continue
            spec = spec.model_copy(update={"query_file": path})
        specs[name] = spec
    if problems:
        lines = [f"sources.{p['source']}.{p['field']}: {p['message']}" for p in problems]
        raise ConfigError("invalid sources:\n  " + "\n  ".join(lines), detail=problems)
    return specs
