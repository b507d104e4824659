"""``lakegate up --demo``: a ready admin token and dashboard login, and a first run."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from django.contrib.auth.models import User

from lakegate_server.accounts.models import Role
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.accounts.services import token_create, user_create
from lakegate_server.conf import project
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

__all__ = ["demo_prepare"]


def _keep(path: Path, secret: str) -> None:
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)


def demo_prepare() -> tuple[str, str]:
    """Return the demo admin token and the ``demo`` login's password, creating them on first use.

    Both are kept in ``.lakegate/`` (mode 0600) so a restarted demo prints the same ones.
    """
    state = project().paths.state
    token_file, password_file = state / "demo_token", state / "demo_password"
    raw = token_file.read_text(encoding="utf-8").strip() if token_file.is_file() else ""
    if token_authenticate(raw=raw) is None:
        raw = token_create(name="demo", role=Role.ADMIN).raw
        _keep(token_file, raw)
    if not User.objects.filter(username="demo").exists():
        password = secrets.token_urlsafe(9)
        user_create(username="demo", password=password, role=Role.ADMIN)
        _keep(password_file, password)
    password = password_file.read_text(encoding="utf-8").strip() if password_file.is_file() else "(unknown)"
    if not Run.objects.exists():
        run_create(kind="selfcheck", params={"seconds": 1}, created_by="demo")
    _drop_sample_data()
    return raw, password


# Dropped in this order: the scheduler claims a folder's files sorted by name and one worker
# runs them first come, first served, so the drifted batch is checked after the good ones.
_DROPS = (
    ("customers", "customers-2026-10.csv", "01-customers-2026-10.csv"),
    ("customers", "customers-2026-11.xlsx", "02-customers-2026-11.xlsx"),
    ("customers", "customers-2026-12.csv", "03-customers-2026-12.csv"),
    ("readings", "readings-2026-11.csv", "01-readings-2026-11.csv"),
)


def _drop_sample_data() -> None:
    """Once per demo project: build the docs knowledge base and drop the sample files in the inbox."""
    lg = project()
    sample = lg.project_dir / "sample-data"
    marker = lg.paths.state / "demo_loaded"
    if not sample.is_dir() or marker.exists():
        return
    from lakegate.knowledge import build_kb

    kb = lg.knowledge_base("docs")
    if kb is not None and (sample / "docs").is_dir():
        kb.parent.mkdir(parents=True, exist_ok=True)
        build_kb(sample / "docs", kb, categories=2)
    for dataset, source, target in _DROPS:
        if (sample / source).is_file():
            folder = lg.paths.inbox / dataset
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample / source, folder / f".{target}.part")
            (folder / f".{target}.part").rename(folder / target)
    marker.write_text("sample data dropped into the inbox\n", encoding="utf-8")
