"""`lakegate chaos`, for real and short: a scratch project, its `lakegate up` killed two ways.

The embedded pass runs it on SQLite; the PostgreSQL pass (LAKEGATE_DATABASE_URL set) on a
fresh PostgreSQL database the command creates and drops. `make chaos` runs the long version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1200)  # about a minute on an idle machine; ~10 min at load 18 on 2 cores
def test_a_short_chaos_session_finds_no_violation(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    # Two trials: the worker killed mid-ingest (predict polled throughout), and the whole
    # `lakegate up` killed while inbox drops, an upload and stream pushes are under way.
    args = ["--trials", "2", "--seed", "11", "--json", "--point", "worker@ingest", "--point", "up@all"]
    if url := os.environ.get("LAKEGATE_DATABASE_URL"):
        args += ["--backend", "postgres", "--database-url", url]
        if os.environ.get("LAKEGATE_REDIS_URL"):
            env["LAKEGATE_REDIS_URL"] = os.environ["LAKEGATE_REDIS_URL"]
    done = subprocess.run(
        [sys.executable, "-m", "lakegate_server.cli", "chaos", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1150,
        check=False,
    )
    report = json.loads(done.stdout)
    assert report["setup_error"] == "", report["setup_error"]
    assert report["violations"] == [], report["violations"]
    assert done.returncode == 0, done.stderr
    assert report["backend"] == ("postgres" if os.environ.get("LAKEGATE_DATABASE_URL") else "embedded")
    assert report["trials"] == 2
    assert report["kills"] == 2
    assert {p for p, n in report["kills_by_point"].items() if n} == {"worker@ingest", "up@all"}
    assert report["files"] >= 1
    assert report["stream_records"] >= 1
    assert report["predict_answers"] >= 1, "the predict route was polled through the worker kill"
