"""E-mail: formatted here, sent by the server (Django's mail backend) through an ``EmailSender``."""

from __future__ import annotations

from lakegate.errors import NotificationError
from lakegate.notify._base import EmailConfig, EmailSender, Notification, Notifier

__all__ = ["EmailNotifier", "email_message"]


def email_message(config: EmailConfig, notification: Notification) -> tuple[str, str]:
    """(subject, plain-text body)."""
    lines = [notification.title, ""]
    if notification.text:
        lines += [notification.text, ""]
    lines += [f"{k}: {v}" for k, v in notification.fields.items()]
    if notification.url:
        lines += ["", notification.url]
    return f"{config.subject_prefix}{notification.title}", "\n".join(lines).rstrip() + "\n"


class EmailNotifier(Notifier[EmailConfig]):
    def __init__(self, name: str, config: EmailConfig, sender: EmailSender | None = None) -> None:
        super().__init__(name, config)
        self.sender = sender

    def send(self, notification: Notification) -> None:
        if self.sender is None:
            raise NotificationError(
                f"notifier {self.name}: e-mail is sent by the lakegate server (no sender configured here)",
                detail={"notifier": self.name},
            )
        subject, body = email_message(self.config, notification)
        self.sender(list(self.config.to), subject, body)
