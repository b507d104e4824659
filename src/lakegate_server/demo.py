"""``lakegate up --demo``: a ready admin token and dashboard login, and a first run."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User

from lakegate_server.accounts.models import Role
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.accounts.services import token_create, user_create
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
    state = settings.LAKEGATE.paths.state
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
    return raw, password
