"""Fixtures every suite may use (registered in ``tests/conftest.py`` as a pytest plugin).

Settings are changed per test through pytest-django's ``settings`` fixture, which restores
them afterwards; every interface reads them through ``lakegate_server.conf.project()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def configure(settings: Any) -> Callable[..., None]:
    """``configure(streams={...}, sources={...}, outbound={...}, datasets={...})`` for this test.

    A section that is a settings model is updated field by field; any other section is replaced.
    """

    def apply(**sections: Any) -> None:
        from lakegate_server.streams import wal

        update: dict[str, Any] = {}
        for key, value in sections.items():
            current = getattr(settings.LAKEGATE, key)
            update[key] = current.model_copy(update=value) if hasattr(current, "model_copy") else value
        settings.LAKEGATE = settings.LAKEGATE.model_copy(update=update)
        wal.stream_logs_close()  # stream logs pick their settings up when first used

    return apply


@pytest.fixture
def pipelines(settings: Any) -> Callable[..., None]:
    """``pipelines(churn={...}, notifiers={...})``: these pipelines (and channels) for this test."""

    def apply(notifiers: dict[str, Any] | None = None, **specs: dict[str, Any]) -> None:
        update: dict[str, Any] = {"pipelines": specs}
        if notifiers is not None:
            update["notifiers"] = notifiers
        settings.LAKEGATE = settings.LAKEGATE.model_copy(update=update)

    return apply


@pytest.fixture
def mailbox(settings: Any) -> list[Any]:
    """Django's outbox (pytest-django's locmem backend), emptied for this test."""
    from django.core import mail

    mail.outbox = []
    return mail.outbox


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """``csv_file("a.csv", "id,x\\n1,2\\n")`` -> a real file in tmp_path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


@pytest.fixture
def train(execute_queued: Callable[[], list[str]]) -> Callable[..., Any]:
    """``train("churn")`` queues a train run, runs the queue like a worker, returns the run."""
    from lakegate_server.conf import project
    from lakegate_server.jobs.models import Run
    from lakegate_server.training.services import pipeline_run_create

    def run(name: str = "churn") -> Run:
        queued = pipeline_run_create(config=project(), name=name, created_by="test")
        execute_queued()
        return Run.objects.get(pk=queued.pk)

    return run


def staged_entries(folder: Path) -> set[Path]:
    """What a staging folder holds; a folder the storage removed once empty holds nothing."""
    return set(folder.iterdir()) if folder.is_dir() else set()


@pytest.fixture
def fresh_streams() -> Iterator[None]:
    """No lake tables and no stream logs before the test; stream logs closed around it."""
    import shutil

    from django.conf import settings as django_settings

    from lakegate_server.streams import wal

    paths = django_settings.LAKEGATE.paths
    for folder in (paths.lake, paths.streams):
        shutil.rmtree(folder, ignore_errors=True)
    wal.stream_logs_close()
    yield
    wal.stream_logs_close()
