"""The lazy registry of notifier kinds, and delivery to a pipeline's channels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from lakegate._resolve import resolve
from lakegate.errors import ConfigError, NotFoundError, NotificationError
from lakegate.notify._base import EmailSender, Notification, Notifier, NotifierConfig

__all__ = ["NOTIFIERS", "notifier_for", "parse_notifiers", "send_notification"]

NOTIFIERS: Final[dict[str, str]] = {
    "slack": "lakegate.notify.slack:SlackNotifier",
    "webhook": "lakegate.notify.webhook:WebhookNotifier",
    "email": "lakegate.notify.email:EmailNotifier",
}

_ADAPTER: TypeAdapter[dict[str, NotifierConfig]] = TypeAdapter(dict[str, NotifierConfig])


def parse_notifiers(section: Mapping[str, Any] | None) -> dict[str, NotifierConfig]:
    """Validate the ``notifiers:`` section (name -> ``{kind: slack|webhook|email, ...}``)."""
    try:
        return _ADAPTER.validate_python(dict(section or {}))
    except ValidationError as exc:
        lines = [f"notifiers.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid notifiers:\n  " + "\n  ".join(lines), detail=lines) from exc


def notifier_for(
    name: str, config: NotifierConfig, *, email_sender: EmailSender | None = None
) -> Notifier[Any]:
    cls = resolve(NOTIFIERS[config.kind])
    if config.kind == "email":
        notifier: Notifier[Any] = cls(name, config, email_sender)
    else:
        notifier = cls(name, config)
    return notifier


def send_notification(
    channels: Mapping[str, NotifierConfig],
    names: Sequence[str],
    notification: Notification,
    *,
    email_sender: EmailSender | None = None,
) -> dict[str, str | None]:
    """Send to each named channel; one failing channel does not stop the others.

    Returns name -> ``None`` (delivered) or the error message.
    """
    outcome: dict[str, str | None] = {}
    for name in names:
        config = channels.get(name)
        if config is None:
            outcome[name] = NotFoundError(f"no notifier named {name!r}").message
            continue
        try:
            notifier_for(name, config, email_sender=email_sender).send(notification)
            outcome[name] = None
        except NotificationError as exc:
            outcome[name] = exc.message
    return outcome
