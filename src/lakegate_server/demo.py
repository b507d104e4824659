"""``lakegate up --demo``: a ready admin token (kept in .lakegate/demo_token) and a first run."""

from __future__ import annotations

from django.conf import settings

from lakegate_server.accounts.models import Role
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.accounts.services import token_create
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

__all__ = ["demo_prepare"]


def demo_prepare() -> str:
    """Return the demo admin token, creating it (and a selfcheck run) on first use."""
    path = settings.LAKEGATE.paths.state / "demo_token"
    if path.is_file():
        raw = path.read_text(encoding="utf-8").strip()
        if token_authenticate(raw=raw) is not None:
            return raw
    issued = token_create(name="demo", role=Role.ADMIN)
    path.write_text(issued.raw, encoding="utf-8")
    path.chmod(0o600)
    if not Run.objects.exists():
        run_create(kind="selfcheck", params={"seconds": 1}, created_by="demo")
    return issued.raw
