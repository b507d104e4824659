"""E-mail notifications through a real SMTP server (aiosmtpd in a thread), configured by ``email:``."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.conf import settings as django_settings
from typer.testing import CliRunner

from lakegate.config import EmailSettings
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.training.notifications import pipeline_notify
from lakegate_server.training.selectors import pipeline_get
from tests.server.training.data import CHURN

pytestmark = pytest.mark.django_db(transaction=True)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
TEAM = {"team": {"kind": "email", "to": ["ml@example.com", "oncall@example.com"]}}


@dataclass
class Inbox:
    port: int
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("lakegate", "s3cret"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox(port=_free_port())
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # a plain local server; the client logs in when it is told to
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def configure(settings: Any) -> Any:
    """Pipeline ``churn`` notifying ``team`` by e-mail through the SMTP server ``email``."""

    def apply(email: dict[str, Any]) -> None:
        settings.EMAIL_BACKEND = SMTP_BACKEND  # pytest-django's default is the in-memory outbox
        settings.LAKEGATE = settings.LAKEGATE.model_copy(
            update={
                "email": EmailSettings.model_validate(email),
                "notifiers": TEAM,
                "pipelines": {"churn": {**CHURN, "notifications": ["team"]}},
            }
        )

    return apply


def _notify() -> dict[str, str | None]:
    from lakegate.notify import Notification

    return pipeline_notify(
        project(),
        pipeline_get(config=project(), name="churn"),
        Notification(event="run.failed", title="churn: it broke"),
    )


def test_a_notification_goes_through_the_configured_server_with_its_login(smtp, configure, monkeypatch):
    env = f"LAKEGATE_TEST_SMTP_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, "s3cret")
    configure(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": "lakegate",
            "password_env": env,
            "from": "ml-bot@acme.io",
        }
    )
    assert _notify() == {"team": None}
    assert smtp.logins == [("lakegate", "s3cret")]
    [(sender, recipients, message)] = smtp.messages
    assert sender == "ml-bot@acme.io"
    assert recipients == ["ml@example.com", "oncall@example.com"]
    assert message["Subject"] == "[lakegate] churn: it broke"
    assert message["From"] == "ml-bot@acme.io"


def test_a_missing_password_variable_is_named_and_nothing_is_sent(smtp, configure):
    configure(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": "lakegate",
            "password_env": "LAKEGATE_NO_SUCH_VAR",
        }
    )
    outcome = _notify()
    assert "environment variable LAKEGATE_NO_SUCH_VAR (email.password_env) is not set" in str(outcome["team"])
    assert smtp.messages == []


def test_a_wrong_password_is_reported_not_raised(smtp, configure, monkeypatch):
    monkeypatch.setenv("LAKEGATE_TEST_SMTP_WRONG", "guess")
    configure(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": "lakegate",
            "password_env": "LAKEGATE_TEST_SMTP_WRONG",
        }
    )
    outcome = _notify()
    assert outcome["team"] is not None
    assert f"127.0.0.1:{smtp.port}" in outcome["team"]
    assert smtp.messages == []


def test_an_unreachable_server_is_named_in_the_error(configure):
    port = _free_port()  # nothing listens there
    configure({"host": "127.0.0.1", "port": port, "timeout_seconds": 2})
    outcome = _notify()
    assert outcome["team"] is not None
    assert f"not sent through 127.0.0.1:{port}" in outcome["team"]


def test_cli_sends_a_test_notification_and_fails_when_undelivered(smtp, configure):
    runner = CliRunner()
    configure({"host": "127.0.0.1", "port": smtp.port})
    sent = runner.invoke(app, ["pipelines", "notify", "churn", "--json"])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout) == {"pipeline": "churn", "channels": {"team": None}}
    [(_, _, message)] = smtp.messages
    assert message["Subject"] == "[lakegate] churn: test notification"

    configure({"host": "127.0.0.1", "port": _free_port(), "timeout_seconds": 2})
    failed = runner.invoke(app, ["pipelines", "notify", "churn"])
    assert failed.exit_code == 1
    assert "team: not delivered" in failed.stdout
    assert len(smtp.messages) == 1


def test_email_settings_come_from_the_environment(monkeypatch, tmp_path):
    from lakegate import init_project, load_settings

    init_project(tmp_path)
    monkeypatch.setenv("LAKEGATE_EMAIL__HOST", "smtp.acme.io")
    monkeypatch.setenv("LAKEGATE_EMAIL__PORT", "587")
    monkeypatch.setenv("LAKEGATE_EMAIL__SECURITY", "starttls")
    loaded = load_settings(tmp_path).email
    assert (loaded.host, loaded.port, loaded.security) == ("smtp.acme.io", 587, "starttls")
    assert django_settings.LAKEGATE.email.host == "localhost"  # the running settings are untouched


@pytest.mark.parametrize(
    ("email", "said"),
    [
        ({"username": "lakegate"}, "email.username and email.password_env go together"),
        ({"password_env": "SMTP_PASSWORD"}, "email.username and email.password_env go together"),
        (
            {"host": "smtp.acme.io", "username": "lakegate", "password_env": "SMTP_PASSWORD"},
            "would send the password in clear; use security: starttls",
        ),
    ],
)
def test_a_login_that_would_not_happen_or_would_leak_is_refused(email, said):
    with pytest.raises(ValueError, match=said):
        EmailSettings.model_validate(email)
    secure = {"host": "smtp.acme.io", "security": "starttls", "username": "u", "password_env": "P"}
    assert EmailSettings.model_validate(secure).security == "starttls"
