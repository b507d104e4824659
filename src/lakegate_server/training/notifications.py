"""Pipeline notifications: the channels of ``lakegate.yaml``, e-mail through Django's backend.

Events (``Notification.event``): ``model.trained``, ``model.promoted``, ``run.failed``,
``gate.failed``. ``run.failed`` comes from the ``train`` kind's failure hook
(``JobSpec.on_failed``), so a run the reaper fails (dead worker, never picked up) is
announced like one whose job raised. A notification that cannot be delivered is logged
and reported back, never raised: it must not fail the training that caused it.
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Callable
from typing import Any

from django.core.mail import get_connection, send_mail

from lakegate.config import Settings
from lakegate.errors import ConfigError, NotificationError
from lakegate.notify import Notification, send_notification
from lakegate.pipelines import PipelineSpec, load_notifiers

__all__ = ["django_email_sender", "pipeline_notify"]

EmailSender = Callable[[list[str], str, str], None]

log = logging.getLogger("lakegate.notify")


def django_email_sender(config: Settings) -> EmailSender:
    """The core's ``EmailSender``: Django's mail backend with lakegate.yaml's ``email:`` server.

    The backend is Django's ``EMAIL_BACKEND`` (SMTP, or pytest-django's in-memory outbox in
    tests); the password comes from the environment variable ``email.password_env`` names,
    read on every send.
    """
    return lambda to, subject, body: _send_email(config, to, subject, body)


def _send_email(config: Settings, to: list[str], subject: str, body: str) -> None:
    email = config.email
    password = ""
    if email.password_env:
        password = os.environ.get(email.password_env, "")
        if not password:
            raise NotificationError(
                f"e-mail to {', '.join(to)} not sent: environment variable {email.password_env} "
                "(email.password_env) is not set"
            )
    try:
        connection = get_connection(
            host=email.host,
            port=email.port,
            username=email.username or "",
            password=password,
            use_tls=email.security == "starttls",
            use_ssl=email.security == "tls",
            timeout=email.timeout_seconds,
        )
        send_mail(subject, body, email.from_address, to, fail_silently=False, connection=connection)
    except (OSError, smtplib.SMTPException) as exc:
        where = f"{email.host}:{email.port}"
        raise NotificationError(f"e-mail to {', '.join(to)} not sent through {where}: {exc}") from exc


def _channels(config: Settings) -> dict[str, Any]:
    document: dict[str, Any] = {"notifiers": config.notifiers, "environments": config.environments}
    return load_notifiers(document, env=config.env, filename=config.paths.config_file.name)


def pipeline_notify(
    config: Settings, spec: PipelineSpec, notification: Notification
) -> dict[str, str | None]:
    """Send ``notification`` to the pipeline's channels; return name -> None or the error."""
    if not spec.notifications:
        return {}
    try:
        channels = _channels(config)
    except ConfigError as exc:
        log.error("notifiers misconfigured", extra={"pipeline": spec.name, "error": exc.message})
        return dict.fromkeys(spec.notifications, exc.message)
    outcome = send_notification(
        channels, spec.notifications, notification, email_sender=django_email_sender(config)
    )
    for name, error in outcome.items():
        if error is not None:
            log.warning(
                "notification not delivered",
                extra={"pipeline": spec.name, "event": notification.event, "channel": name, "error": error},
            )
    return outcome
