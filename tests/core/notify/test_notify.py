"""Notifiers against a real local HTTP server; outbound URL safety (SSRF) on every hop."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lakegate.errors import ConfigError, NotificationError
from lakegate.notify import (
    NOTIFIERS,
    SIGNATURE_HEADER,
    EmailConfig,
    Notification,
    Notifier,
    OutboundPolicy,
    SlackConfig,
    WebhookConfig,
    check_address,
    notifier_for,
    parse_notifiers,
    send_notification,
)

LOOPBACK = OutboundPolicy(allowed_networks=["127.0.0.1/32"], timeout=5)
EVENT = Notification(
    event="model.promoted",
    title="churn: model v3 promoted",
    text="f1 0.81 >= champion 0.79 + 0.01",
    pipeline="churn",
    run_id="run-42",
    fields={"f1": 0.81, "algorithm": "lightgbm"},
)


class Recorder:
    """A local HTTP server recording requests; ``routes`` maps a path to (status, headers)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.routes: dict[str, tuple[int, dict[str, str]]] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, headers = recorder.routes.get(self.path, (200, {}))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.close()


def test_webhook_posts_json_signed_with_hmac(server):
    config = WebhookConfig(url=server.url(), secret="s3cret", outbound=LOOPBACK, headers={"X-Team": "data"})
    notifier_for("audit", config).send(EVENT)
    (request,) = server.requests
    body = request["body"]
    assert json.loads(body) == {
        "event": "model.promoted",
        "title": "churn: model v3 promoted",
        "text": "f1 0.81 >= champion 0.79 + 0.01",
        "pipeline": "churn",
        "run_id": "run-42",
        "url": None,
        "fields": {"f1": 0.81, "algorithm": "lightgbm"},
    }
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"][SIGNATURE_HEADER], expected)
    assert request["headers"]["X-Lakegate-Event"] == "model.promoted"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Team"] == "data"
    assert request["headers"]["Host"] == f"127.0.0.1:{server.port}"


def test_webhook_secret_from_the_environment(server, monkeypatch):
    config = WebhookConfig(url=server.url(), secret_env="HOOK_SECRET", outbound=LOOPBACK)
    with pytest.raises(NotificationError, match="HOOK_SECRET is not set"):
        notifier_for("audit", config).send(EVENT)
    monkeypatch.setenv("HOOK_SECRET", "from-env")
    notifier_for("audit", config).send(EVENT)
    request = server.requests[-1]
    expected = "sha256=" + hmac.new(b"from-env", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"][SIGNATURE_HEADER] == expected


def test_a_hostname_is_pinned_to_its_checked_address_and_keeps_its_host_header(server):
    # localhost resolves to loopback only; the request goes to the checked address with Host kept.
    policy = OutboundPolicy(allowed_networks=["127.0.0.0/8", "::1/128"], timeout=5)
    notifier_for("audit", WebhookConfig(url=server.url(host="localhost"), outbound=policy)).send(EVENT)
    assert server.requests[-1]["headers"]["Host"] == f"localhost:{server.port}"
    assert SIGNATURE_HEADER not in server.requests[-1]["headers"]  # no secret, no signature


def test_slack_payload(server):
    notifier_for("ops", SlackConfig(url=server.url("/services/T/B/X"), outbound=LOOPBACK)).send(
        Notification(
            event="run.failed", title="churn <failed>", text="step 02 & co", url="https://lg.example/r/1"
        )
    )
    payload = json.loads(server.requests[0]["body"])
    assert payload["text"] == "churn &lt;failed&gt;"
    block = payload["blocks"][0]["text"]
    assert block["type"] == "mrkdwn"
    assert (
        block["text"] == "*churn &lt;failed&gt;*\nstep 02 &amp; co\n<https://lg.example/r/1|Open in lakegate>"
    )


def test_loopback_is_refused_unless_allowed(server):
    config = WebhookConfig(url=server.url())
    with pytest.raises(NotificationError, match=r"127\.0\.0\.1 is a private or loopback address"):
        notifier_for("audit", config).send(EVENT)
    assert server.requests == []  # refused before connecting


def test_a_redirect_to_a_private_or_metadata_address_is_refused(server):
    targets = {
        "http://169.254.169.254/latest/meta-data/": "169.254.169.254",
        "http://10.0.0.7/admin": "10.0.0.7",
        "http://[::1]:9/": "::1",
    }
    for location, address in targets.items():
        server.routes["/hook"] = (307, {"Location": location})
        with pytest.raises(NotificationError, match="refusing to connect") as info:
            notifier_for("audit", WebhookConfig(url=server.url(), outbound=LOOPBACK)).send(EVENT)
        assert info.value.detail["address"] == address
    assert len(server.requests) == 3  # only the first hop of each attempt reached the server


def test_allowed_redirects_are_followed_and_others_not(server):
    server.routes["/hook"] = (308, {"Location": "/moved"})
    notifier_for("audit", WebhookConfig(url=server.url(), outbound=LOOPBACK)).send(EVENT)
    assert [r["path"] for r in server.requests] == ["/hook", "/moved"]
    assert server.requests[1]["body"] == server.requests[0]["body"]  # 308 keeps the POST body
    server.routes["/hook"] = (302, {"Location": "/moved"})
    with pytest.raises(NotificationError, match="only 307/308 are followed"):
        notifier_for("audit", WebhookConfig(url=server.url(), outbound=LOOPBACK)).send(EVENT)
    server.routes["/hook"] = (307, {"Location": "/hook"})
    with pytest.raises(NotificationError, match="too many redirects"):
        notifier_for("audit", WebhookConfig(url=server.url(), outbound=LOOPBACK)).send(EVENT)


def test_http_errors_and_unreachable_hosts(server):
    server.routes["/hook"] = (500, {})
    with pytest.raises(NotificationError, match="answered HTTP 500") as info:
        notifier_for("audit", WebhookConfig(url=server.url(), outbound=LOOPBACK)).send(EVENT)
    assert info.value.detail["status"] == 500
    closed = WebhookConfig(url="http://127.0.0.1:9/hook", outbound=LOOPBACK)
    with pytest.raises(NotificationError, match="cannot connect"):
        notifier_for("audit", closed).send(EVENT)


@pytest.mark.parametrize(
    ("address", "policy", "allowed"),
    [
        ("8.8.8.8", OutboundPolicy(), True),
        ("2606:4700:4700::1111", OutboundPolicy(), True),
        ("127.0.0.1", OutboundPolicy(), False),
        ("::1", OutboundPolicy(), False),
        ("::ffff:127.0.0.1", OutboundPolicy(), False),
        ("10.1.2.3", OutboundPolicy(), False),
        ("192.168.1.1", OutboundPolicy(), False),
        ("100.64.0.1", OutboundPolicy(), False),
        ("0.0.0.0", OutboundPolicy(), False),
        ("224.0.0.1", OutboundPolicy(), False),
        ("169.254.169.254", OutboundPolicy(), False),
        ("fd00:ec2::254", OutboundPolicy(), False),
        ("100.100.100.200", OutboundPolicy(), False),
        ("10.1.2.3", OutboundPolicy(allow_private=True), True),
        ("127.0.0.1", OutboundPolicy(allow_private=True), True),
        ("169.254.169.254", OutboundPolicy(allow_private=True), False),
        ("fd00:ec2::254", OutboundPolicy(allow_private=True), False),
        ("169.254.10.1", OutboundPolicy(allow_private=True), False),
        ("169.254.169.254", OutboundPolicy(allowed_networks=["169.254.169.254/32"]), True),
        ("127.0.0.2", OutboundPolicy(allowed_networks=["127.0.0.1/32"]), False),
    ],
)
def test_address_policy(address, policy, allowed):
    assert (check_address(ipaddress.ip_address(address), policy) is None) is allowed


def test_email_is_formatted_here_and_sent_by_the_server():
    sent: list[tuple] = []
    config = EmailConfig(to=["ml@example.com"])
    notifier_for(
        "mail", config, email_sender=lambda to, subject, body: sent.append((to, subject, body))
    ).send(EVENT)
    assert sent == [
        (
            ["ml@example.com"],
            "[lakegate] churn: model v3 promoted",
            "churn: model v3 promoted\n\nf1 0.81 >= champion 0.79 + 0.01\n\nf1: 0.81\nalgorithm: lightgbm\n",
        )
    ]
    with pytest.raises(NotificationError, match="sent by the lakegate server"):
        notifier_for("mail", config).send(EVENT)


def test_send_to_several_channels_reports_each(server):
    channels = parse_notifiers(
        {
            "hook": {
                "kind": "webhook",
                "url": server.url(),
                "outbound": {"allowed_networks": ["127.0.0.1/32"]},
            },
            "blocked": {"kind": "webhook", "url": server.url()},
        }
    )
    outcome = send_notification(channels, ["blocked", "hook", "nope"], EVENT)
    assert outcome["hook"] is None
    assert "private or loopback" in outcome["blocked"]
    assert outcome["nope"] == "no notifier named 'nope'"
    assert len(server.requests) == 1


def test_every_notifier_kind_is_registered():
    for kind, dotted in NOTIFIERS.items():
        module_name, _, name = dotted.partition(":")
        cls = getattr(importlib.import_module(module_name), name)
        assert issubclass(cls, Notifier), kind
    assert set(NOTIFIERS) == {"slack", "webhook", "email"}


def test_invalid_notifier_configs():
    with pytest.raises(ConfigError, match=r"notifiers\.x"):
        parse_notifiers({"x": {"kind": "pager"}})
    with pytest.raises(ConfigError, match="not e-mail addresses: nobody"):
        parse_notifiers({"x": {"kind": "email", "to": ["nobody"]}})
    with pytest.raises(ConfigError, match="not a network"):
        parse_notifiers(
            {"x": {"kind": "slack", "url": "https://h.example/x", "outbound": {"allowed_networks": ["x"]}}}
        )


def _certificates(tmp_path):
    """A throwaway CA and a certificate for ``localhost`` signed by it."""
    import datetime as dt

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test ca"))
        .issuer_name(name("test ca"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key"


def test_https_to_a_pinned_address_checks_the_certificate_for_the_host_name(server, tmp_path, monkeypatch):
    import ssl

    ca, cert, key = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    policy = OutboundPolicy(allowed_networks=["127.0.0.0/8", "::1/128"], timeout=5)
    url = f"https://localhost:{server.port}/hook"
    notifier_for("audit", WebhookConfig(url=url, secret="k", outbound=policy)).send(EVENT)
    assert server.requests[-1]["headers"]["Host"] == f"localhost:{server.port}"
    # The same server reached by its address: the certificate does not name it, so TLS fails.
    with pytest.raises(NotificationError, match="CERTIFICATE_VERIFY_FAILED"):
        notifier_for(
            "audit", WebhookConfig(url=f"https://127.0.0.1:{server.port}/hook", outbound=policy)
        ).send(EVENT)
