"""Generic webhooks: the notification as JSON, signed with HMAC-SHA256.

Receivers verify ``X-Lakegate-Signature: sha256=<hex>`` by computing
``hmac.new(secret, raw_body, sha256).hexdigest()`` over the exact bytes received and
comparing with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from lakegate.errors import NotificationError
from lakegate.notify._base import Notification, Notifier, WebhookConfig
from lakegate.notify._safe_http import safe_post

__all__ = ["SIGNATURE_HEADER", "WebhookNotifier", "sign"]

SIGNATURE_HEADER = "X-Lakegate-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier(Notifier[WebhookConfig]):
    def _secret(self) -> str | None:
        if self.config.secret_env:
            value = os.environ.get(self.config.secret_env)
            if not value:
                raise NotificationError(
                    f"notifier {self.name}: environment variable {self.config.secret_env} is not set",
                    detail={"notifier": self.name},
                )
            return value
        return self.config.secret

    def send(self, notification: Notification) -> None:
        body = json.dumps(notification.to_json(), sort_keys=True, separators=(",", ":"), default=str).encode()
        headers = {
            **self.config.headers,
            "Content-Type": "application/json",
            "User-Agent": "lakegate-webhook",
            "X-Lakegate-Event": notification.event,
        }
        secret = self._secret()
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        safe_post(self.config.url, content=body, headers=headers, policy=self.config.outbound)
