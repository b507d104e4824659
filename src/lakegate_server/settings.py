"""Django settings, derived from lakegate's one typed settings module (``lakegate.config``).

Nothing is read from the environment here directly: ``load_settings()`` already applied
``lakegate.yaml`` and the ``LAKEGATE_*`` variables, and failed loudly on bad values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from lakegate.config import load_settings
from lakegate.errors import ConfigError
from lakegate_server.accounts.secret_key import weak_secret_key

try:
    LAKEGATE = load_settings()
except ConfigError as exc:
    raise ImproperlyConfigured(exc.message) from exc

PATHS = LAKEGATE.paths
BASE_DIR = Path(__file__).resolve().parent

WEB = LAKEGATE.web

if not LAKEGATE.secret_key:
    raise ImproperlyConfigured(
        f"no secret key: set LAKEGATE_SECRET_KEY or run `lakegate init --force {LAKEGATE.project_dir}`"
    )
SECRET_KEY = LAKEGATE.secret_key
DEBUG = LAKEGATE.debug
ALLOWED_HOSTS = list(WEB.allowed_hosts)

# The production profile (web.tls): HTTPS only, and nothing that is fine on a laptop.
if WEB.tls:
    problem = weak_secret_key(SECRET_KEY)
    if problem:
        raise ImproperlyConfigured(
            f"web.tls is on but the secret key {problem}; set LAKEGATE_SECRET_KEY to a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    if DEBUG:
        raise ImproperlyConfigured(
            "web.tls is on (the production profile): turn debug off (LAKEGATE_DEBUG=false)"
        )
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = WEB.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = WEB.hsts_include_subdomains
    SECURE_HSTS_PRELOAD = WEB.hsts_preload
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz answers over plain HTTP too: load balancers probe the port directly.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if WEB.proxy_ips:
    # The web server takes X-Forwarded-Proto (and the client address) only from web.proxy_ips;
    # the proxy must set the header on every request it forwards.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "template_partials",
    "lakegate_server.accounts",
    "lakegate_server.jobs",
    "lakegate_server.datasets",
    "lakegate_server.ledger",
    "lakegate_server.quality",
    "lakegate_server.training",
    "lakegate_server.knowledge",
    "lakegate_server.sources",
    "lakegate_server.streams",
    "lakegate_server.exports",
    "lakegate_server.lineage",
    "lakegate_server.dashboard",
]

MIDDLEWARE = [
    # Outermost: sees the resolved route and the caller of every response (the access log).
    "lakegate_server.serving.access.RouteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lakegate_server.accounts.middleware.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "lakegate_server.urls"
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
ASGI_APPLICATION = "lakegate_server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    if LAKEGATE.database_url:
        # conn_max_age=0: under ASGI each request runs in a fresh thread context; persistent
        # connections would leak one per thread. Health checks keep reused ones honest.
        config = dj_database_url.parse(LAKEGATE.database_url, conn_max_age=0, conn_health_checks=True)
        if config["ENGINE"] == "django.db.backends.postgresql":
            config.setdefault("TEST", {})["NAME"] = f"test_{config['NAME']}"
        return dict(config)
    PATHS.state.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": PATHS.database,
        "OPTIONS": {
            # The web server, workers and scheduler are separate processes sharing this
            # file: WAL lets readers run beside the writer, IMMEDIATE transactions take the
            # write lock up front (no deadlocking lock upgrades), and writers wait, not fail.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # Tests get a file too, not Django's default shared-cache in-memory database: that
        # one locks whole tables and fails at once ("database table is locked") when a
        # worker thread writes while the test reads, which production's WAL file never does.
        "TEST": {"NAME": str(PATHS.state / "test.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PATHS.state / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
# Serve app static files (the bundled API docs assets) straight from the packages.
WHITENOISE_USE_FINDERS = True

# Uploads stream to disk above this size; the API enforces web.max_upload_bytes itself.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2
FILE_UPLOAD_TEMP_DIR = PATHS.state / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEB.max_request_bytes

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Logging is configured by the lakegate CLI (JSON lines per component); keep Django's off.
LOGGING_CONFIG = None
