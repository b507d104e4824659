"""Slack incoming webhooks."""

from __future__ import annotations

import json
from typing import Any

from lakegate.notify._base import Notification, Notifier, SlackConfig
from lakegate.notify._safe_http import safe_post

__all__ = ["SlackNotifier", "slack_payload"]


def _escape(text: str) -> str:
    # Slack mrkdwn treats &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """The JSON Slack expects: a plain ``text`` fallback plus one mrkdwn section."""
    lines = [f"*{_escape(notification.title)}*"]
    if notification.text:
        lines.append(_escape(notification.text))
    lines += [f"*{_escape(str(k))}*: {_escape(str(v))}" for k, v in notification.fields.items()]
    if notification.url:
        lines.append(f"<{notification.url}|Open in lakegate>")
    body = "\n".join(lines)
    return {
        "text": _escape(notification.title),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}}],
    }


class SlackNotifier(Notifier[SlackConfig]):
    def send(self, notification: Notification) -> None:
        content = json.dumps(slack_payload(notification)).encode()
        safe_post(
            self.config.url,
            content=content,
            headers={"Content-Type": "application/json"},
            policy=self.config.outbound,
        )
