"""Dashboard fixtures: logins for every role, a stranger without one, and a small real lake.

The authorization matrix in every test file: ``admin`` > ``editor`` > ``viewer`` (Django
groups), ``stranger`` (logged in, no role: 403 everywhere) and ``None`` (anonymous: sent to
the login page).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from lakegate_server.accounts.services import user_create
from lakegate_server.conf import project
from lakegate_server.datasets.models import QuarantinedFile
from lakegate_server.datasets.services import QuarantinedError
from lakegate_server.flow import ingest_file
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

PASSWORD = "correct-horse-battery"
ROLES = ("admin", "editor", "viewer")
WHO = (*ROLES, "stranger", None)

WEATHER_1 = "id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n3,,Oslo\n4,19.0,Oslo\n"
WEATHER_2 = "id,temp,city,wind\n5,18.0,Oslo,3\n6,17.5,Bergen,7\n"
WEATHER_BAD = "id,temp,city\nx,1,Oslo\n"


@pytest.fixture
def users(db: None, settings: Any) -> dict[str, User]:
    # A fast hasher: PBKDF2's deliberate slowness would dominate these tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    made = {role: user_create(username=f"{role}-person", password=PASSWORD, role=role) for role in ROLES}
    made["stranger"] = User.objects.create_user(username="stranger", password=PASSWORD)
    return made


@pytest.fixture
def browse(users: dict[str, User]) -> Callable[[str | None], Client]:
    """``browse("editor")`` -> a client logged in as the editor; ``browse(None)`` is anonymous."""

    def make(who: str | None) -> Client:
        client = Client()
        if who is not None:
            client.force_login(users[who])
        return client

    return make


@dataclass
class Lake:
    name: str
    quarantined: QuarantinedFile


@pytest.fixture
def lake(db: None, tmp_path: Path) -> Lake:
    """Dataset ``weather``: v1, v2 (adds ``wind``), and one quarantined file (type conflict)."""
    shutil.rmtree(settings.LAKEGATE.paths.lake / "weather", ignore_errors=True)
    for index, text in enumerate((WEATHER_1, WEATHER_2), start=1):
        path = tmp_path / f"w{index}.csv"
        path.write_text(text, encoding="utf-8")
        ingest_file(config=project(), dataset="weather", path=path, actor="fixture")
    bad = tmp_path / "bad.csv"
    bad.write_text(WEATHER_BAD, encoding="utf-8")
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="weather", path=bad, actor="test")
    return Lake(name="weather", quarantined=QuarantinedFile.objects.get(id=info.value.entry_id))


@pytest.fixture
def queued_run(db: None) -> Run:
    return run_create(kind="selfcheck", params={"seconds": 0}, created_by="fixture")
