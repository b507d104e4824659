"""The dashboard's knowledge pages: the list, search with category and folder facets, the
build report's corpus drift, and building from the page."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from tests.server.knowledge.test_kb_builds import ENGINES, build, folder, write

pytestmark = pytest.mark.django_db(transaction=True)

__all__ = ["folder"]  # the fixture, used by name


def test_the_dashboard_lists_searches_with_facets_and_shows_the_drift(
    api, execute_queued, folder, users, browse
):
    build(api, execute_queued, name="pages", folder=folder, categories=2)
    write(django_settings.LAKEGATE.project_dir / folder, ENGINES)
    build(api, execute_queued, name="pages", folder=folder, categories=2)
    viewer = browse("viewer")
    index = viewer.get("/kb/").content.decode()
    assert '<a href="/kb/pages/">pages</a>' in index
    assert "Build or rebuild" not in index  # viewers cannot build

    page = viewer.get("/kb/pages/", {"q": "diesel fuel"}).content.decode()
    assert "engines/diesel.txt" in page
    assert 'id="kb-drift"' in page
    assert "of the chunks are in new categories" in page
    assert "?q=diesel%20fuel&amp;folder=engines" in page  # a folder facet
    narrowed = viewer.get("/kb/pages/", {"q": "diesel fuel", "folder": "water"}).content.decode()
    assert "engines/diesel.txt" not in narrowed

    partial = viewer.get("/kb/pages/", {"q": "nitrate"}, HTTP_HX_REQUEST="true").content.decode()
    assert "water/" in partial
    assert "<h1>" not in partial  # htmx gets only the hits

    assert viewer.post("/kb/build/", {"name": "pages", "folder": folder}).status_code == 403
    editor = browse("editor")
    assert "Build or rebuild" in editor.get("/kb/").content.decode()
    queued = editor.post("/kb/build/", {"name": "pages", "folder": folder})
    assert queued.status_code == 302
    assert queued["Location"].startswith("/runs/")
    refused = editor.post("/kb/build/", {"name": "pages", "folder": "../x"}, follow=True)
    assert "build: folder" in refused.content.decode()
    assert viewer.get("/kb/nothing-here/").status_code == 404
