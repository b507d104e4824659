"""Three hosts starting at once against one fresh database: one migrates, none fails."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import LAKEGATE

pytestmark = pytest.mark.slow


def test_three_concurrent_migrates_apply_each_migration_once(project):
    procs = [
        subprocess.Popen(
            [*LAKEGATE, "migrate"], env=project.env, cwd=project.root, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    applied = [o for o in outputs if "migration(s) applied" in o]
    assert len(applied) == 1, f"exactly one process migrates a fresh database: {outputs}"
    again = project.run("migrate")
    assert "the database is up to date" in again.stdout
