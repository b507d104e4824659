"""``lakegate init``: create a project folder with commented settings and its state folders."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from lakegate.config import ProjectPaths
from lakegate.errors import ConflictError

__all__ = ["CONFIG_TEMPLATE", "init_project"]

CONFIG_TEMPLATE = """\
# lakegate project settings.
# Every value below is the default; delete a line to keep the default.
# Any setting can be overridden by an environment variable:
#   LAKEGATE_<NAME> for top-level keys (LAKEGATE_DATABASE_URL, LAKEGATE_ENV, ...)
#   LAKEGATE_<SECTION>__<NAME> inside a section (LAKEGATE_RUNS__LEASE_SECONDS=60)

# Which overlay of pipelines to use (dev, preprod, prod).
env: dev

# Database for the catalog, runs and tokens. Empty: SQLite in .lakegate/db.sqlite3.
# For many workers use PostgreSQL, e.g. postgresql://user@127.0.0.1:5432/lakegate
database_url: null

# Job queue. Empty: SQLite queue in .lakegate/queue.sqlite3 (one machine).
# For many workers on many machines use Redis, e.g. redis://127.0.0.1:6379/0
redis_url: null
queue_name: lakegate   # lets several projects share one Redis

# Logging level of the JSON-lines logs in .lakegate/logs/ (DEBUG, INFO, WARNING, ERROR).
log_level: INFO

# Runs own their state in the database. A worker holds a lease on the run it
# executes and renews it with a heartbeat; the scheduler re-queues runs whose
# lease expired (the worker died) up to max_attempts, then marks them failed.
# A run whose job hit a transient error (a lake or source down) is retried after
# retry_delay_seconds, doubling after each failed attempt up to retry_max_delay_seconds
# (10 s, 20 s, 40 s, ...); 0 retries at once. A worker that died is replaced at once.
runs:
  heartbeat_seconds: 10
  lease_seconds: 30           # at least 2 x heartbeat_seconds
  max_attempts: 3
  queued_timeout_seconds: 600 # a run queued this long (past its retry time) is handed to the queue again
  reap_interval_seconds: 5
  retry_delay_seconds: 10     # wait after the first failed attempt
  retry_max_delay_seconds: 300 # the longest wait between attempts

# The web service (`lakegate up`).
web:
  host: 127.0.0.1
  port: 8000
  max_upload_bytes: 1073741824  # 1 GiB; larger uploads get HTTP 413
  min_free_disk_bytes: 104857600  # /healthz says the disk is down below 100 MiB free
  allowed_hosts: ["127.0.0.1", "localhost", "[::1]"]

# The SMTP server for `kind: email` notifiers (`lakegate pipelines notify NAME` sends a test).
# The password is read from the environment variable password_env names, never from here.
email:
  host: localhost
  port: 25
  security: none        # starttls (usually port 587) or tls (port 465)
  username: null
  password_env: null    # e.g. LAKEGATE_SMTP_PASSWORD
  from: lakegate@localhost
  timeout_seconds: 10

# Per-dataset settings (all optional). Example:
# datasets:
#   customers:
#     types: {zip: string, signup: "date:%d.%m.%Y"}   # override inferred column types
#     sheet: Customers                                # which sheet of a workbook to ingest
#     contract: contracts/customers.yaml              # or an inline mapping (lakegate contract infer)
#     target: churned                                 # label column: its drift is label drift
#     policy: fail          # fail: a failed gate rejects the version; warn: accept and notify
#     reference: last_accepted                        # or window:5, or a pinned version number
#     checks:                                         # default: schema, contract, drift, text, anomalies
#       - {kind: drift, thresholds: {psi: 0.2}}
datasets: {}

# Knowledge bases served by GET /api/v1/kb/search (build them with `lakegate kb build`):
# knowledge_bases:
#   docs: kb/docs.jsonl
knowledge_bases: {}
"""


def init_project(directory: str | os.PathLike[str], *, force: bool = False) -> ProjectPaths:
    """Create ``lakegate.yaml`` and the ``.lakegate/`` state folders in ``directory``.

    An existing ``lakegate.yaml`` is kept (and reported as a conflict unless ``force``);
    the state folders are created when missing, so running it twice is safe.
    """
    paths = ProjectPaths(Path(directory).expanduser().resolve())
    if paths.config_file.exists() and not force:
        raise ConflictError(
            f"{paths.config_file} already exists; this folder is a lakegate project "
            "(use --force to create missing state folders)",
            detail={"path": str(paths.config_file)},
        )
    paths.root.mkdir(parents=True, exist_ok=True)
    for folder in paths.folders():
        folder.mkdir(parents=True, exist_ok=True)
    if not paths.config_file.exists():
        paths.config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    if not paths.secret_key_file.exists():
        paths.secret_key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        paths.secret_key_file.chmod(0o600)
    gitignore = paths.state / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# lakegate state: data, database and secrets\n*\n", encoding="utf-8")
    return paths
