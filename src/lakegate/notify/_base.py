"""Notifications: the message, the channel configs (``notifiers:`` in lakegate.yaml), the interface."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakegate._outbound import OutboundPolicy  # re-exported: notifier configs and callers import it here

__all__ = [
    "EmailConfig",
    "EmailSender",
    "Notification",
    "Notifier",
    "NotifierConfig",
    "OutboundPolicy",
    "SlackConfig",
    "WebhookConfig",
]

# The server supplies this (Django's mail backend): (recipients, subject, plain-text body).
EmailSender = Callable[[list[str], str, str], None]


@dataclass(frozen=True)
class Notification:
    """What happened: ``event`` is a dotted name (``run.failed``, ``model.promoted``, ...)."""

    event: str
    title: str
    text: str = ""
    pipeline: str | None = None
    run_id: str | None = None
    url: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


class _HttpChannel(_Channel):
    url: str
    outbound: OutboundPolicy = OutboundPolicy()

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an http(s):// URL")
        return value


class SlackConfig(_HttpChannel):
    """A Slack incoming webhook (``https://hooks.slack.com/services/...``)."""

    kind: Literal["slack"] = "slack"


class WebhookConfig(_HttpChannel):
    """A JSON POST signed with ``X-Lakegate-Signature: sha256=<HMAC-SHA256 of the body>``.

    The secret comes from ``secret_env`` (an environment variable name, preferred) or ``secret``.
    """

    kind: Literal["webhook"] = "webhook"
    secret: str | None = None
    secret_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class EmailConfig(_Channel):
    """E-mail, sent by the server through its mail backend (the core only formats it)."""

    kind: Literal["email"] = "email"
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[lakegate] "

    @field_validator("to")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not re.match(r"^[^@\s]+@[^@\s]+$", v)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return values


NotifierConfig = Annotated[SlackConfig | WebhookConfig | EmailConfig, Field(discriminator="kind")]
C = TypeVar("C", bound=_Channel)


class Notifier(ABC, Generic[C]):
    """Delivers notifications to one configured channel; raises ``NotificationError``."""

    def __init__(self, name: str, config: C) -> None:
        self.name = name
        self.config = config

    @abstractmethod
    def send(self, notification: Notification) -> None: ...
