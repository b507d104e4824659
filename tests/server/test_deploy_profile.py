"""The production profile (``web.tls: true``): ``manage.py check --deploy`` is clean, and it shows.

Settings are read once per process, so each profile runs in a process of its own, with the
test session's project folder and its environment variables.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from lakegate_server.accounts.secret_key import weak_secret_key

STRONG_KEY = secrets.token_urlsafe(48)
PRODUCTION = {
    "LAKEGATE_WEB__TLS": "true",
    "LAKEGATE_SECRET_KEY": STRONG_KEY,
    "LAKEGATE_WEB__ALLOWED_HOSTS": '["lakegate.example.org"]',
}


def django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    base["DJANGO_SETTINGS_MODULE"] = "lakegate_server.settings"
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_for_the_production_profile():
    done = django(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_behind_a_proxy_it_is_clean_too():
    done = django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {**PRODUCTION, "LAKEGATE_WEB__PROXY_IPS": '["10.0.0.5"]'},
    )
    assert done.returncode == 0, done.stderr
    assert "(0 silenced)" in done.stdout


def test_the_development_profile_is_not_and_says_why():
    done = django(["check", "--deploy", "--fail-level", "WARNING"], {})
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("change-me-" * 8, "known default"),
        ("django-insecure-" + "a1b2c3d4e5" * 6, "known default"),
        ("s3cr3t", "has 6 characters"),
        ("ab" * 40, "fewer than 5 distinct"),
    ],
)
def test_a_weak_or_default_secret_key_is_refused_in_production(key, why):
    done = django(["check"], {**PRODUCTION, "LAKEGATE_SECRET_KEY": key})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert why in done.stderr
    assert "set LAKEGATE_SECRET_KEY" in done.stderr


def test_debug_is_refused_in_production():
    done = django(["check"], {**PRODUCTION, "LAKEGATE_DEBUG": "true"})
    assert done.returncode != 0
    assert "turn debug off" in done.stderr


PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
plain = client.get("/login/", HTTP_HOST="lakegate.example.org")
secure = client.get("/login/", HTTP_HOST="lakegate.example.org", secure=True)
forwarded = client.get("/login/", HTTP_HOST="lakegate.example.org", HTTP_X_FORWARDED_PROTO="https")
health = client.get("/healthz", HTTP_HOST="lakegate.example.org")
cookie = secure.cookies.get("csrftoken")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(cookie and cookie["secure"]),
    "forwarded": forwarded.status_code,
    "health": health.status_code,
}))
"""


def probe(env: dict[str, str]) -> dict[str, Any]:
    done = django(["shell", "-c", PROBE], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_production_profile_redirects_to_https_and_sends_hsts():
    seen = probe(PRODUCTION)
    assert seen["plain"] == [301, "https://lakegate.example.org/login/"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie_secure"] is True
    assert seen["forwarded"] == 301, "X-Forwarded-Proto is not trusted without web.proxy_ips"
    assert seen["health"] in (200, 503), "load balancers may probe /healthz over plain HTTP"


def test_behind_a_named_proxy_its_forwarded_scheme_counts():
    seen = probe({**PRODUCTION, "LAKEGATE_WEB__PROXY_IPS": '["10.0.0.5"]'})
    assert seen["forwarded"] == 200


def test_weak_secret_key_rules():
    assert weak_secret_key(STRONG_KEY) is None
    assert weak_secret_key("x" * 60) == "has fewer than 5 distinct characters"
    assert weak_secret_key("Your-Secret-Key-" + STRONG_KEY) == "contains 'your-secret', a known default"


SETTINGS_PROBE = """
import hashlib, json, os, django
django.setup()
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "key_from_env": settings.SECRET_KEY == os.environ["LAKEGATE_SECRET_KEY"],
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY],
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts": [settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS],
    "csrf_middleware": "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE,
    "clickjacking": "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE,
}))
"""


def test_the_production_settings_are_what_the_deploy_check_reads():
    """DEBUG off, the secret key from the environment, secure and HTTP-only session cookie,
    secure CSRF cookie, HTTPS redirect, HSTS, the CSRF and clickjacking middleware."""
    done = django(["shell", "-c", SETTINGS_PROBE], PRODUCTION)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "debug": False,
        "key_from_env": True,
        "session_cookie": [True, True],
        "csrf_cookie_secure": True,
        "ssl_redirect": True,
        "hsts": [31536000, True],
        "csrf_middleware": True,
        "clickjacking": True,
    }
