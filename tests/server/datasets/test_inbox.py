"""Files dropped into .lakegate/inbox/<dataset>/ become ingest runs, then versions."""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings

from lakegate_server.conf import project
from lakegate_server.datasets.inbox import inbox_claim
from lakegate_server.datasets.selectors import version_get

pytestmark = pytest.mark.django_db(transaction=True)


def drop(dataset: str, name: str, text: str, *, age: float = 10.0):
    folder = settings.LAKEGATE.paths.inbox / dataset
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def test_a_settled_drop_is_claimed_once_and_ingested(execute_queued):
    dropped = drop("weather", "w1.csv", "id,temp\n1,2.5\n")
    runs = inbox_claim(config=project(), settle_seconds=2)
    assert [(r.kind, r.params["dataset"], r.params["original_name"]) for r in runs] == [
        ("ingest", "weather", "w1.csv")
    ]
    assert not dropped.exists()
    assert inbox_claim(config=project(), settle_seconds=2) == []
    assert execute_queued() == ["succeeded"]
    version = version_get(name="weather")
    assert (version.number, version.source_name, version.rows) == (1, "w1.csv", 1)
    assert not (settings.LAKEGATE.paths.state / runs[0].params["key"]).parent.exists(), "staged copy removed"


def test_files_still_being_written_and_bad_folders_are_left_alone():
    fresh = drop("weather", "w2.csv", "id\n1\n", age=0)
    partial = drop("weather", "big.csv.part", "id\n1\n")
    hidden = drop("weather", ".w3.csv", "id\n1\n")
    wrong = drop("Not A Name", "w.csv", "id\n1\n")
    assert inbox_claim(config=project(), settle_seconds=2) == []
    assert all(p.exists() for p in (fresh, partial, hidden, wrong))
