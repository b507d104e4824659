"""Notifiers: Slack webhooks, signed generic webhooks, e-mail (sent by the server).

Channels are declared once under ``notifiers:`` in ``lakegate.yaml`` (overridable per
environment) and pipelines name them in ``notifications:``. HTTP notifiers post through
:func:`safe_post`, which refuses private, loopback, link-local and cloud-metadata
addresses unless the channel's ``outbound`` policy allows them, pins the resolved address
and re-checks every redirect.
"""

from lakegate.notify._base import (
    EmailConfig,
    EmailSender,
    Notification,
    Notifier,
    NotifierConfig,
    OutboundPolicy,
    SlackConfig,
    WebhookConfig,
)
from lakegate.notify._registry import NOTIFIERS, notifier_for, parse_notifiers, send_notification
from lakegate.notify._safe_http import METADATA_ADDRESSES, check_address, safe_post
from lakegate.notify.webhook import SIGNATURE_HEADER, sign

__all__ = [
    "METADATA_ADDRESSES",
    "NOTIFIERS",
    "SIGNATURE_HEADER",
    "EmailConfig",
    "EmailSender",
    "Notification",
    "Notifier",
    "NotifierConfig",
    "OutboundPolicy",
    "SlackConfig",
    "WebhookConfig",
    "check_address",
    "notifier_for",
    "parse_notifiers",
    "safe_post",
    "send_notification",
    "sign",
]
