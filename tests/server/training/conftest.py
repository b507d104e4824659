"""Training fixtures: a churn pipeline in settings, customer files, versions the gate accepted.

Versions are ingested first and accepted by hand (``accept``), so these tests do not depend
on what the quality gate thinks of the data: they test what training does with a verdict.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.conf import settings as django_settings

from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import ingest_file


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    """Each test starts with no lake tables or models on disk (the database is fresh anyway)."""
    paths = django_settings.LAKEGATE.paths
    for folder in (paths.lake, paths.artifacts / "models", paths.artifacts / "runs"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ingest(tmp_path: Path) -> Callable[..., DatasetVersion]:
    """``ingest("customers", frame, status="accepted")`` -> the new version, with that status."""
    counter = iter(range(1, 10_000))

    def make(
        name: str, frame: pl.DataFrame, *, status: str = "accepted", verdict: str = ""
    ) -> DatasetVersion:
        path = tmp_path / f"{name}-{next(counter)}.csv"
        frame.write_csv(path)
        version = ingest_file(config=project(), dataset=name, path=path, actor="test").version
        verdict = verdict or {"accepted": "pass", "rejected": "fail"}.get(status, "")
        DatasetVersion.objects.filter(pk=version.pk).update(status=status, verdict=verdict)
        version.refresh_from_db()
        return version

    return make


@pytest.fixture
def registry(db: None) -> Callable[..., Any]:
    """``registry("churn", ["champion", "candidate"])`` -> versions made directly (no training).

    For stage changes and reads: the rows are real, the artifact folders hold only a card.
    """
    from lakegate_server.training.models import ModelVersion, RegisteredModel, StageAction, StageChange

    def make(name: str, stages: list[str], metrics: list[dict[str, float]] | None = None) -> list[Any]:
        model, _ = RegisteredModel.objects.get_or_create(name=name)
        made = []
        for index, stage in enumerate(stages, start=1):
            values = (
                (metrics or [])[index - 1] if metrics and index <= len(metrics) else {"f1": 0.5 + index / 100}
            )
            folder = django_settings.LAKEGATE.paths.artifacts / "models" / name / str(index)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "card.html").write_text(f"<!doctype html><title>{name} v{index}</title>")
            project = django_settings.LAKEGATE.project_dir
            version = ModelVersion.objects.create(
                model=model,
                number=index,
                stage=stage,
                task="classification",
                algorithm="lightgbm.LGBMClassifier",
                metrics=values,
                promotion_metrics={**values, "robustness": {"f1_drop": 0.01}},
                robustness={"rows": [], "summary": {"f1_drop": 0.01}, "notes": []},
                config_hash="c" * 64,
                inputs_fingerprint="i" * 64,
                artifact_path=str((folder / "model").relative_to(project)),
                sha256=f"{index:064d}",
                card_path=str((folder / "card.html").relative_to(project)),
            )
            if stage in {"champion", "archived"}:
                StageChange.objects.create(
                    model=model,
                    version=version,
                    action=StageAction.PROMOTED,
                    from_stage="candidate",
                    to_stage="champion",
                    actor="fixture",
                    reason="made by the fixture",
                )
            made.append(version)
        return made

    return make


@pytest.fixture
def recorder() -> Any:
    """A prediction recorder that keeps every request and appends only when flushed."""
    from lakegate.config import MonitoringSettings
    from lakegate_server.serving.record import PredictionRecorder

    return PredictionRecorder(MonitoringSettings(record_rate=1e9), start=False)


@pytest.fixture
def recording_client(recorder: Any) -> Any:
    """The online route (mounted in front of Django) recording into ``recorder``."""
    import anyio.from_thread
    from django.core.handlers.asgi import ASGIHandler

    from lakegate_server.serving import build_app, mount
    from lakegate_server.serving.cache import ChampionCache
    from tests.server.training.test_serving import PortalClient

    serving = build_app(champions=ChampionCache(refresh_seconds=0.05), recorder=recorder)
    with anyio.from_thread.start_blocking_portal() as portal:
        yield PortalClient(mount(ASGIHandler(), serving), portal)
