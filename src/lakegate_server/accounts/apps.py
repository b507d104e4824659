from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _token_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new token is in no cache yet
        _token_gone(sender, instance)


def _token_gone(sender: Any, instance: Any, **kwargs: Any) -> None:
    from lakegate_server.accounts.revocation import tokens_changed

    transaction.on_commit(tokens_changed)


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from lakegate_server.accounts.throttle import login_keys, throttle_fail

    address = request.META.get("REMOTE_ADDR") if request is not None else None
    throttle_fail(login_keys(address=address, username=str(credentials.get("username") or "")))


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from lakegate_server.accounts.throttle import login_keys, throttle_reset

    for name in login_keys(address=None, username=user.get_username()).names[1:]:
        throttle_reset(name)  # the username's count; the address keeps its own


class AccountsConfig(AppConfig):
    name = "lakegate_server.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lakegate_server.accounts.models import ApiToken

        # Signals rather than a call in token_revoke: the Django admin edits and deletes tokens
        # too, and a revocation made there must reach the lean routes' caches as fast.
        post_save.connect(_token_saved, sender=ApiToken, dispatch_uid="lakegate-token-saved")
        post_delete.connect(_token_gone, sender=ApiToken, dispatch_uid="lakegate-token-deleted")
        # Every wrong password counts, whichever login form it came through (dashboard, admin).
        user_login_failed.connect(_login_failed, dispatch_uid="lakegate-login-failed")
        user_logged_in.connect(_logged_in, dispatch_uid="lakegate-logged-in")
