"""End-to-end fixtures: a fresh project per test, driven only through the `lakegate` command.

In the PostgreSQL + Redis pass every test gets its own real database (created and dropped
here) and its own queue name, so parallel tests and their reapers never see each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*LAKEGATE, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"lakegate {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def start(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{log_name}.out").open("ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen([*LAKEGATE, *args], env=self.env, cwd=self.root, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def output(self, log_name: str) -> str:
        return (self.root / f"{log_name}.out").read_text(errors="replace")

    def run_log(self, run_id: int) -> list[dict[str, Any]]:
        """A run's log lines, read straight from the project's database (where workers write them).

        Not through ``lakegate runs logs``: polling tests need the lines as soon as they land.
        """
        sql = "SELECT entry FROM jobs_runlogline WHERE run_id = %s ORDER BY id"
        url = self.env.get("LAKEGATE_DATABASE_URL")
        try:
            if url:
                with psycopg.connect(url) as conn:
                    rows = conn.execute(sql, [run_id]).fetchall()
                return [r[0] if isinstance(r[0], dict) else json.loads(r[0]) for r in rows]
            with contextlib.closing(
                sqlite3.connect(self.root / ".lakegate" / "db.sqlite3", timeout=30)
            ) as db:
                rows = db.execute(sql.replace("%s", "?"), [run_id]).fetchall()
        except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
            return []  # not migrated yet
        return [json.loads(r[0]) for r in rows]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def postgres_url() -> Iterator[str | None]:
    base = os.environ.get("LAKEGATE_DATABASE_URL")
    if not base:
        yield None
        return
    name = f"lakegate_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def project(tmp_path: Path, postgres_url: str | None) -> Iterator[Project]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env.update(
        LAKEGATE_PROJECT_DIR=str(tmp_path),
        LAKEGATE_QUEUE_NAME=f"e2e-{uuid.uuid4().hex[:10]}",
        PYTHONUNBUFFERED="1",
    )
    if postgres_url:
        env["LAKEGATE_DATABASE_URL"] = postgres_url
    if os.environ.get("LAKEGATE_REDIS_URL"):
        env["LAKEGATE_REDIS_URL"] = os.environ["LAKEGATE_REDIS_URL"]
    proj = Project(root=tmp_path, env=env)
    proj.run("init", str(tmp_path))
    yield proj
    for proc in proj.procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
