"""The Python API over a project, for notebooks: ``lg = lakegate.Project("path")``.

    lg = lakegate.Project("churn-project")          # a folder made by `lakegate init`
    v = lg.ingest("data/customers.csv", dataset="customers")   # -> Version (gated)
    v.report                                        # renders the HTML report in Jupyter
    lg.datasets["customers"].to_polars(version=v.number)
    model = lg.train("churn")                       # -> ModelVersion (trained in this process)
    lg.predict("churn", "data/new.csv")             # -> polars DataFrame
    lg.kb.search("refund policy")

Every method goes through the same flow and service functions as the ``lakegate`` command
(``flow.ingest_file``, ``flow.version_gate``, ``training.services.pipeline_run_create``,
``training.predictions.predictions_to_file``), so a notebook and the CLI leave the same
records. No server is needed: Django is set up inside the project on first use, on the
embedded defaults (SQLite) or whatever ``lakegate.yaml`` names (PostgreSQL, Redis); when a
server runs on the same project, both see the same catalog.

A Python process serves one project (Django's settings are per process): opening a second
project in the same process is a clear :class:`~lakegate.errors.ConflictError`.

Training runs in this process by default (``lg.train(name)``: the run is queued like any
other, then this process executes it as a worker would: claim, lease, log, record); pass
``in_process=False`` to leave it to the project's workers.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lakegate.config import Settings, find_project_dir
from lakegate.errors import ConflictError, InputError, JobError, ProjectNotFoundError

if TYPE_CHECKING:
    import polars as pl

    from lakegate.knowledge import BuildReport
    from lakegate.lake import ConvertResult
    from lakegate_server.datasets.models import DatasetVersion
    from lakegate_server.jobs.models import Run as RunRow
    from lakegate_server.quality.models import CheckReport
    from lakegate_server.training.models import ModelVersion as ModelVersionRow

__all__ = [
    "Dataset",
    "Datasets",
    "KnowledgeBases",
    "ModelVersion",
    "Project",
    "Report",
    "Run",
    "Version",
]

PathLike = str | os.PathLike[str]
Frame = Any  # a polars or pandas DataFrame


# -- What the API returns: plain, typed records (no Django model leaks into a notebook) -----------


@dataclass(frozen=True)
class Report:
    """A quality gate report: ``status`` pass / warn / fail, ``checks``, and the HTML page."""

    dataset: str
    version: int
    status: str
    checks: list[dict[str, Any]] = field(repr=False)
    data: dict[str, Any] = field(repr=False)
    html: str = field(repr=False)

    @classmethod
    def _from_row(cls, config: Settings, row: CheckReport) -> Report:
        from lakegate_server.quality.selectors import report_html

        return cls(
            dataset=row.version.dataset.name,
            version=row.version.number,
            status=row.status,
            checks=list(row.report.get("checks", [])),
            data=dict(row.report),
            html=report_html(config=config, report=row),
        )

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The checks that failed."""
        return [check for check in self.checks if check.get("status") == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def save_html(self, path: PathLike) -> Path:
        """Write the self-contained HTML report to ``path`` (atomically)."""
        from lakegate._atomic import write_bytes_atomic

        out = Path(path)
        write_bytes_atomic(out, self.html.encode("utf-8"))
        return out

    def _repr_html_(self) -> str:
        # The report is a whole page with its own styles: an iframe keeps them off the notebook's.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:600px;border:1px solid #ddd" '
            f'title="{html.escape(self.dataset)} v{self.version} quality report"></iframe>'
        )


@dataclass(frozen=True)
class Version:
    """A dataset version: its gate status (accepted / rejected / pending) and its report."""

    dataset: str
    number: int
    status: str
    verdict: str
    rows: int
    total_rows: int
    duplicate: bool = False
    report: Report | None = field(default=None, repr=False)
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def _from_row(
        cls,
        config: Settings,
        row: DatasetVersion,
        *,
        duplicate: bool = False,
        report: CheckReport | None = None,
    ) -> Version:
        return cls(
            dataset=row.dataset.name,
            number=row.number,
            status=row.status,
            verdict=row.verdict,
            rows=row.rows,
            total_rows=row.total_rows,
            duplicate=duplicate,
            report=Report._from_row(config, report) if report is not None else None,
            data=dict(row.summary()),
        )

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    def to_dict(self) -> dict[str, Any]:
        return {**self.data, "duplicate": self.duplicate}

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{html.escape(self.dataset)}</b> version {self.number}: {self.rows:,} rows "
            f"(total {self.total_rows:,}), <b>{html.escape(self.status)}</b>"
            f"{' (duplicate: nothing written)' if self.duplicate else ''}</p>"
        )
        return head + (self.report._repr_html_() if self.report is not None else "")


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version: stage (champion / candidate / archived), metrics, decision."""

    name: str
    number: int
    stage: str
    algorithm: str
    metrics: dict[str, Any]
    decision: str
    data: dict[str, Any] = field(repr=False)

    @classmethod
    def _from_row(cls, row: ModelVersionRow) -> ModelVersion:
        data = row.to_dict()
        return cls(
            name=row.model.name,
            number=row.number,
            stage=row.stage,
            algorithm=row.algorithm,
            metrics=dict(row.metrics),
            decision=str(row.decision.get("reason", "")),
            data=data,
        )

    @property
    def champion(self) -> bool:
        return self.stage == "champion"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.4g}</td></tr>"
            for k, v in self.metrics.items()
            if isinstance(v, int | float)
        )
        return (
            f"<p><b>{html.escape(self.name)}</b> v{self.number}: <b>{html.escape(self.stage)}</b> "
            f"({html.escape(self.algorithm)})<br>{html.escape(self.decision)}</p><table>{cells}</table>"
        )


@dataclass(frozen=True)
class Run:
    """A run: its id, kind, status and result (``lakegate runs show ID`` shows the same)."""

    id: int
    kind: str
    status: str
    result: dict[str, Any] | None
    error: str

    @classmethod
    def _from_row(cls, row: RunRow) -> Run:
        return cls(id=row.pk, kind=row.kind, status=row.status, result=row.result, error=row.last_error)


# -- Collections ---------------------------------------------------------------------------------


class Dataset:
    """One dataset of the lake: its versions, and its rows as of any version."""

    def __init__(self, project: Project, name: str) -> None:
        self._project = project
        self.name = name

    def __repr__(self) -> str:
        return f"Dataset({self.name!r})"

    def versions(self) -> list[Version]:
        """Every version, newest first."""
        config = self._project.settings
        from lakegate_server.datasets.selectors import dataset_versions

        return [Version._from_row(config, row) for row in dataset_versions(name=self.name)]

    def version(self, number: int | None = None) -> Version:
        """Version ``number`` (default: the latest), with its latest report if it was checked."""
        config = self._project.settings
        from lakegate_server.datasets.selectors import version_get

        row = version_get(name=self.name, number=number)
        return Version._from_row(config, row, report=row.reports.order_by("-id").first())

    def scan(self, version: int | None = None) -> pl.LazyFrame:
        """The dataset as of ``version`` (default: the latest), lazily (Delta time travel)."""
        config = self._project.settings
        from lakegate.lake import scan_version
        from lakegate_server.datasets.selectors import version_get

        row = version_get(name=self.name, number=version)
        return scan_version(config.lake_table(self.name), row.delta_version)

    def to_polars(self, version: int | None = None) -> pl.DataFrame:
        """The dataset as of ``version`` (default: the latest) as a polars DataFrame."""
        return self.scan(version).collect()

    def to_pandas(self, version: int | None = None) -> Any:
        """The dataset as of ``version`` as a pandas DataFrame (needs pandas installed)."""
        return self.to_polars(version).to_pandas()


class Datasets(Mapping[str, Dataset]):
    """The project's datasets by name: ``lg.datasets["customers"]``, ``list(lg.datasets)``."""

    def __init__(self, project: Project) -> None:
        self._project = project

    def _names(self) -> list[str]:
        self._project.settings  # noqa: B018 - sets Django up
        from lakegate_server.datasets.selectors import dataset_list

        return [row.name for row in dataset_list()]

    def __getitem__(self, name: str) -> Dataset:
        if name not in self._names():
            raise KeyError(name)
        return Dataset(self._project, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"Datasets({self._names()!r})"


class KnowledgeBases:
    """``lg.kb.search(...)`` over the knowledge bases declared in ``lakegate.yaml``; ``lg.kb.build(...)``."""

    def __init__(self, project: Project) -> None:
        self._project = project

    def names(self) -> list[str]:
        return list(self._project.settings.knowledge_bases)

    def search(self, query: str, *, k: int = 5, name: str | None = None) -> list[dict[str, Any]]:
        """The ``k`` chunks closest to ``query`` in knowledge base ``name`` (default: the first)."""
        from lakegate_server.knowledge.selectors import kb_search

        return kb_search(config=self._project.settings, q=query, k=k, name=name)[1]

    def build(self, folder: PathLike, output: PathLike, **options: Any) -> BuildReport:
        """Index ``folder`` into the knowledge base file ``output`` (as ``lakegate kb build``)."""
        from lakegate.knowledge import build_kb

        return build_kb(Path(folder), Path(output), **options)


# -- The project ---------------------------------------------------------------------------------


class Project:
    """A lakegate project folder (made by ``lakegate init``), opened from Python.

    ``path`` defaults to ``LAKEGATE_PROJECT_DIR`` or the nearest folder holding
    ``lakegate.yaml``. Nothing heavy happens here: Django is set up on first use.
    """

    def __init__(self, path: PathLike | None = None) -> None:
        if path is None:
            self.path = find_project_dir()
        else:
            self.path = Path(path).expanduser().resolve()
            if not (self.path / "lakegate.yaml").is_file():
                raise ProjectNotFoundError(
                    f"{self.path} holds no lakegate.yaml; run `lakegate init {path}` (or "
                    "lakegate.init_project) first"
                )
        self._opened = False
        self.datasets = Datasets(self)
        self.kb = KnowledgeBases(self)

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"

    # -- set-up ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The project's settings, with Django set up (and the database migrated) on first use."""
        if not self._opened:
            _open(self.path)
            self._opened = True
        from lakegate_server.conf import project

        return project()  # what every interface of this process sees

    # -- data --------------------------------------------------------------------------------

    def convert(
        self,
        sources: PathLike | Iterable[PathLike],
        out_dir: PathLike,
        *,
        format: Literal["parquet", "delta"] = "parquet",  # noqa: A002 - the CLI option's name
        sheet: str | None = None,
        types: Mapping[str, str] | None = None,
    ) -> list[ConvertResult]:
        """Convert files to Parquet or Delta into ``out_dir`` (as ``lakegate convert``; no database)."""
        from lakegate.lake import convert

        return convert(_paths(sources), out_dir, format=format, sheet=sheet, overrides=types)

    def ingest(
        self,
        source: PathLike | Frame,
        *,
        dataset: str,
        mode: Literal["append", "overwrite"] = "append",
        evolve: bool = False,
        sheet: str | None = None,
    ) -> Version:
        """Ingest a file (or a polars/pandas DataFrame) as a new version of ``dataset``, gated.

        The same path as ``lakegate ingest``: one Delta commit, the quality gate, and what
        an accepted version triggers (queued runs). A file the readers refuse is quarantined
        and raises its error. Returns the version (``.status``, ``.report``); a duplicate of
        an existing version returns that one with ``duplicate=True``.
        """
        config = self.settings
        from lakegate_server.flow import ingest_file

        with _as_file(source, dataset) as path:
            outcome = ingest_file(
                config=config,
                dataset=dataset,
                path=path,
                mode=mode,
                evolve=evolve,
                sheet=sheet,
                actor="python",
            )
        report = outcome.report
        if report is None and outcome.duplicate:
            report = outcome.version.reports.order_by("-id").first()
        return Version._from_row(config, outcome.version, duplicate=outcome.duplicate, report=report)

    def check(self, dataset: str, *, version: int | None = None, reference: int | None = None) -> Report:
        """Run the quality gate on a version (default: the latest), as ``lakegate check``.

        Records the verdict like the CLI does; returns the report (a failed gate is a
        report with ``status == "fail"``, not an exception).
        """
        config = self.settings
        from lakegate_server.flow import version_gate

        row = version_gate(
            config=config, dataset=dataset, number=version, reference=reference, actor="python"
        )
        return Report._from_row(config, row)

    def approve(self, dataset: str, *, version: int, reason: str) -> Version:
        """Accept a version the gate rejected (kept in the ledger with ``reason``)."""
        config = self.settings
        from lakegate_server.flow import version_approve

        row = version_approve(config=config, dataset=dataset, number=version, reason=reason, actor="python")
        return Version._from_row(config, row)

    # -- models ------------------------------------------------------------------------------

    def pipelines(self) -> list[dict[str, Any]]:
        """The pipelines of ``lakegate.yaml`` with their champion and last run."""
        from dataclasses import asdict

        from lakegate_server.training.selectors import pipeline_list

        return [asdict(row) for row in pipeline_list(config=self.settings)]

    def train(self, pipeline: str, *, in_process: bool = True) -> ModelVersion | Version | Run:
        """Train ``pipeline`` on its accepted data (as ``lakegate run PIPELINE``).

        A data pipeline (``output:``) returns the dataset version it wrote (gated).

        ``in_process`` (default): this process executes the run as a worker would and
        returns the registered model version; a failed run raises :class:`~lakegate.errors.JobError`.
        ``in_process=False``: the run is left to the project's workers; returns it queued.
        """
        config = self.settings
        from lakegate_server.training.services import pipeline_run_create

        queued = pipeline_run_create(config=config, name=pipeline, created_by="python")
        if not in_process:
            return Run._from_row(queued)
        run = _execute(queued.pk)
        if run.status != "succeeded" or not run.result:
            raise JobError(
                f"training run {run.id} of {pipeline!r} {run.status}: {run.error or 'no result'} "
                f"(`lakegate runs logs {run.id}`)",
                detail={"run": run.id, "status": run.status},
            )
        output = run.result.get("output")
        if output is not None:  # a data pipeline: the version it wrote
            return self.datasets[output["dataset"]].version(int(output["version"]))
        return self.model(pipeline, version=int(run.result["version"]))

    def model(self, name: str, *, version: int | None = None) -> ModelVersion:
        """Version ``version`` of model ``name`` (default: its champion)."""
        self.settings  # noqa: B018 - sets Django up on first use
        from lakegate.errors import NotFoundError
        from lakegate_server.training.selectors import model_champion, model_version_get

        if version is not None:
            return ModelVersion._from_row(model_version_get(name=name, number=version))
        champion = model_champion(name=name)
        if champion is None:
            raise NotFoundError(f"model {name!r} has no champion yet", detail={"model": name})
        return ModelVersion._from_row(champion)

    def models(self, name: str) -> list[ModelVersion]:
        """Every version of model ``name``, newest first."""
        self.settings  # noqa: B018 - sets Django up on first use
        from lakegate_server.training.selectors import model_versions

        return [ModelVersion._from_row(row) for row in model_versions(name=name)]

    def promote(self, name: str, *, version: int, reason: str, override: bool = False) -> ModelVersion:
        """Make ``version`` the champion by hand (as ``lakegate models promote``)."""
        config = self.settings
        from lakegate_server.training.promotion import model_promote

        row = model_promote(
            config=config, name=name, number=version, reason=reason, actor="python", override=override
        )
        return ModelVersion._from_row(row)

    def predict(
        self,
        model: str,
        data: PathLike | Frame,
        *,
        version: int | None = None,
        out: PathLike | None = None,
        sheet: str | None = None,
    ) -> pl.DataFrame:
        """Score a file or a DataFrame with ``model``'s champion (or ``version``).

        As ``lakegate predict``: the batch is recorded; ``out`` keeps the Parquet file.
        Returns the predictions (id columns, ``prediction``, ``proba_<label>``).
        """
        import polars as pl

        config = self.settings
        from lakegate_server.training.predictions import predictions_to_file

        scratch = Path(tempfile.mkdtemp(prefix="predict-", dir=config.paths.state))
        try:
            target = Path(out) if out is not None else scratch / "predictions.parquet"
            with _as_file(data, "input") as source:
                predictions_to_file(
                    config=config,
                    name=model,
                    source=source,
                    out=target,
                    number=version,
                    sheet=sheet,
                    created_by="python",
                )
            return pl.read_parquet(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    # -- runs --------------------------------------------------------------------------------

    def run_queued(self, *, kinds: Sequence[str] | None = None) -> list[Run]:
        """Execute the runs waiting in the queue in this process (for a project with no worker).

        Ingesting an accepted version queues what it triggers (training, scoring, exports);
        with no ``lakegate up`` running, this runs them here, oldest first.
        """
        self.settings  # noqa: B018 - sets Django up on first use
        from lakegate_server.jobs.models import Run as RunRow
        from lakegate_server.jobs.models import RunStatus

        waiting = RunRow.objects.filter(status=RunStatus.QUEUED)
        if kinds is not None:
            waiting = waiting.filter(kind__in=list(kinds))
        return [_execute(pk) for pk in waiting.order_by("queued_at", "id").values_list("pk", flat=True)]


# -- Helpers -------------------------------------------------------------------------------------


def _open(path: Path) -> Settings:
    """Set Django up inside ``path``; or check that this process already serves that project."""
    from django.apps import apps

    if _in_event_loop():
        # Jupyter runs each cell's (synchronous) code inside its asyncio loop; Django would take
        # every query for one made from async code and refuse it. The notebook is one user's
        # synchronous session: let the ORM run there.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    if apps.ready:
        from lakegate_server.conf import project

        current = project()
        if current.project_dir.resolve() != path:
            raise ConflictError(
                f"this Python process already opened the project {current.project_dir}; "
                f"one process serves one project: restart the kernel to open {path}",
                detail={"open": str(current.project_dir), "asked": str(path)},
            )
        return current
    os.environ["LAKEGATE_PROJECT_DIR"] = str(path)
    from lakegate_server.cli._setup import server_command

    return server_command("python", verbose=False, project_dir=path)


def _in_event_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _execute(run_id: int) -> Run:
    from lakegate_server.jobs.execution import run_execute
    from lakegate_server.jobs.models import Run as RunRow

    run_execute(run_id=run_id)
    return Run._from_row(RunRow.objects.get(pk=run_id))


def _paths(sources: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(sources, str | os.PathLike):
        return [Path(sources)]
    return [Path(source) for source in sources]


class _as_file:  # noqa: N801 - used as a context manager, like a function
    """A path as is; a DataFrame written to a temporary Parquet file (removed afterwards)."""

    def __init__(self, source: PathLike | Frame, stem: str) -> None:
        self.source = source
        self.stem = stem
        self.folder: Path | None = None

    def __enter__(self) -> Path:
        if isinstance(self.source, str | os.PathLike):
            return Path(self.source)
        frame = _polars(self.source)
        self.folder = Path(tempfile.mkdtemp(prefix="lakegate-frame-"))
        path = self.folder / f"{self.stem}.parquet"
        frame.write_parquet(path)
        return path

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _polars(frame: Frame) -> pl.DataFrame:
    import polars as pl

    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    if type(frame).__module__.startswith("pandas"):
        return pl.from_pandas(frame)
    raise InputError(
        f"expected a file path or a polars/pandas DataFrame, got {type(frame).__name__}",
        detail={"type": type(frame).__name__},
    )
