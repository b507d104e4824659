"""CSRF on every dashboard form: each POST form in the templates carries the token, htmx
requests send it as a header, and every POST route refuses a request without it
(tests/server/test_access_matrix.py sends each one without the token and from a foreign Origin).
"""

from __future__ import annotations

import re
from pathlib import Path

import lakegate_server.dashboard

TEMPLATES = Path(lakegate_server.dashboard.__file__).parent / "templates"
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)


def _post_forms() -> list[tuple[str, str]]:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        found.extend(
            (f"{template.relative_to(TEMPLATES)}: <form{match['attrs']}>", match["body"])
            for match in FORM.finditer(text)
            if re.search(r"""method\s*=\s*["']?post""", match["attrs"], re.IGNORECASE)
        )
    return found


def test_every_post_form_carries_the_csrf_token():
    forms = _post_forms()
    assert len(forms) >= 10, "the dashboard's forms were found"
    missing = [where for where, body in forms if "{% csrf_token %}" not in body]
    assert not missing, f"POST forms without {{% csrf_token %}}: {missing}"


def test_htmx_requests_send_the_token_and_no_form_posts_elsewhere():
    base = (TEMPLATES / "dashboard" / "base.html").read_text(encoding="utf-8")
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in base
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for match in FORM.finditer(text):
            action = re.search(r"""action\s*=\s*["']([^"']*)""", match["attrs"])
            if action is not None:
                assert not action[1].startswith(("http:", "https:", "//")), (template.name, action[1])
