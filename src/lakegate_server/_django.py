"""Start Django from a CLI command: find the project, set up, migrate when needed."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakegate.config import Settings, load_settings

__all__ = ["django_setup"]


def django_setup(*, migrate: bool = True, project_dir: Path | None = None) -> Settings:
    """Load the project's settings (clear error when there is none), set up Django, migrate.

    ``project_dir``: this project (default: ``LAKEGATE_PROJECT_DIR`` or the nearest
    ``lakegate.yaml``). Migrations are applied automatically: an embedded project needs no
    manual step, and checking for pending ones costs only a few milliseconds.
    """
    settings = load_settings(project_dir)
    os.environ["LAKEGATE_PROJECT_DIR"] = str(settings.project_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lakegate_server.settings")
    for folder in settings.paths.folders():
        folder.mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    if migrate:
        _migrate_if_needed()
    from lakegate_server.conf import project

    return project()  # the instance Django loaded: what every other interface of this process sees


def _migrate_if_needed() -> None:
    migrate_pending()


def migrate_pending() -> list[str]:
    """Apply pending migrations under a lock; return the ones this process applied.

    `lakegate up` starts web, workers and scheduler at once, and a deployment starts several
    hosts at once: each looks, the first to hold the lock (an advisory lock on PostgreSQL, a
    file lock on SQLite) migrates, the others find nothing left to do.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def pending() -> list[str]:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]

    if not pending():
        return []
    with _migration_lock():
        todo = pending()
        if todo:
            call_command("migrate", interactive=False, verbosity=0)
        return todo


@contextmanager
def _migration_lock() -> Iterator[None]:
    """Serialise migrations across processes: an advisory lock on PostgreSQL, a file lock else."""
    from django.db import connection

    from lakegate_server.conf import project

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    with (project().paths.state / "migrate.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Any fixed 64-bit number; it names lakegate's migration lock among advisory locks.
_LOCK_KEY = 0x6C616B6567617465
