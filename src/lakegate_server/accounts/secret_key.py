"""Which secret keys the production profile refuses (``web.tls: true``).

No Django import: ``lakegate_server.settings`` calls this before Django is set up.
"""

from __future__ import annotations

from typing import Final

__all__ = ["weak_secret_key"]

# Values copied from examples and templates, lower-cased; a key containing one is a default
# somebody forgot to replace, however long it is.
KNOWN_DEFAULTS: Final = (
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "your-secret",
    "your_secret",
    "secret-key",
    "secret_key",
    "django-insecure",
    "insecure",
    "example",
    "placeholder",
    "lakegate",
    "password",
)
MIN_LENGTH: Final = 50
MIN_DISTINCT: Final = 5


def weak_secret_key(key: str) -> str | None:
    """Why ``key`` must not sign production sessions, or None when it may.

    Django's own deploy check asks for 50 characters, 5 distinct ones and no
    ``django-insecure-`` prefix; on top of that, no well-known placeholder.
    """
    lowered = key.lower()
    found = next((word for word in KNOWN_DEFAULTS if word in lowered), None)
    if found is not None:
        return f"contains {found!r}, a known default"
    if len(key) < MIN_LENGTH:
        return f"has {len(key)} characters; use at least {MIN_LENGTH}"
    if len(set(key)) < MIN_DISTINCT:
        return f"has fewer than {MIN_DISTINCT} distinct characters"
    return None
