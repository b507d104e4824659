"""Path traversal probes on every path-taking input of the service.

Dataset names (API paths, stream pushes, the service every entry point calls), upload file
names, archive entries inside an upload, quarantine ids, knowledge base names and export
targets. Each probe must be refused (4xx) or made harmless (a sanitised name inside the
staging folder), and nothing may appear outside the project's own folders.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lakegate.errors import InputError
from lakegate.storage import open_storage
from lakegate_server.accounts.services import user_create
from lakegate_server.conf import project
from lakegate_server.datasets.services import validate_dataset_name

pytestmark = pytest.mark.django_db(transaction=True)

CSV = b"id,name\n1,Ann\n2,Bob\n"

BAD_NAMES = [
    "..",
    "../x",
    "../../etc",
    "a/../../b",
    "a/b",
    "/etc/passwd",
    "a\\b",
    "..\\..\\x",
    "abc\n",
    "a\x00b",
    ".hidden",
    "-x",
    "Upper",
    "x" * 101,
    "%2e%2e",
    "a b",
]

BAD_FILE_NAMES = [
    "../../evil-upload.csv",
    "..\\..\\evil-upload.csv",
    "/etc/evil-upload.csv",
    "a/../../evil-upload.csv",
    "..",
    "evil\x00upload.csv",
    "\u202eevil-upload.csv",
]


def _outside(root: Path) -> set[str]:
    """What sits beside the project (two levels), where a traversal would land."""
    parent = root.parent
    return {str(p) for p in parent.glob("*")} | {str(p) for p in parent.glob("*/*") if root not in p.parents}


@pytest.fixture
def project_root(settings) -> Path:
    return Path(settings.LAKEGATE.paths.lake).parent


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n) for n in BAD_NAMES])
def test_a_dataset_name_that_is_not_one_is_refused_everywhere(name, api, settings, project_root):
    with pytest.raises(InputError, match="dataset name"):
        validate_dataset_name(name)
    before = _outside(project_root)
    lake_before = set(Path(settings.LAKEGATE.paths.lake).iterdir())
    staged_before = set(Path(settings.LAKEGATE.paths.uploads).iterdir())
    segment = quote(name, safe="")
    editor = api("editor")
    answers = [
        editor.client.post(
            f"/api/v1/datasets/{segment}/files",
            {"file": SimpleUploadedFile("w.csv", CSV)},
            headers=editor.headers,
        ),
        editor.post(f"/api/v1/streams/{segment}/records", [{"id": 1}]),
        api("viewer").get(f"/api/v1/datasets/{segment}"),
        editor.post(f"/api/v1/datasets/{segment}/export", {"to": "env:NOPE", "table": "t"}),
    ]
    for response in answers:
        assert response.status_code in {404, 422}, (response.status_code, response.content[:300])
        assert response.json()["error"]["code"] in {"not_found", "validation_error", "invalid_input"}
    assert set(Path(settings.LAKEGATE.paths.lake).iterdir()) == lake_before
    assert set(Path(settings.LAKEGATE.paths.uploads).iterdir()) == staged_before
    assert _outside(project_root) == before


def _multipart(filename: str, content: bytes) -> bytes:
    """A multipart body naming the file exactly so (Django's test client would take its basename)."""
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    return (
        b"--B\r\n"
        + f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'.encode()
        + b"Content-Type: text/csv\r\n\r\n"
        + content
        + b"\r\n--B--\r\n"
    )


@pytest.mark.parametrize("filename", BAD_FILE_NAMES, ids=[repr(n) for n in BAD_FILE_NAMES])
def test_an_upload_file_name_never_leaves_the_staging_folder(
    filename, api, settings, project_root, execute_queued
):
    before = _outside(project_root)
    editor = api("editor")
    response = editor.client.generic(
        "POST",
        "/api/v1/datasets/probe/files",
        _multipart(filename, CSV),
        content_type="multipart/form-data; boundary=B",
        headers=editor.headers,
    )
    assert response.status_code in {202, 400, 422}, response.content
    if response.status_code != 202:  # refused outright: nothing staged
        assert response.json()["error"]["code"] in {"bad_request", "invalid_input", "validation_error"}
        assert _outside(project_root) == before
        return
    key = response.json()["params"]["key"]
    area, upload_id, name = key.split("/")  # one folder per upload, inside the staging area
    assert (area, bool(upload_id)) == ("uploads", True)
    staged = open_storage(project()).local_path(key)
    assert staged is not None
    assert staged.resolve().parent.parent == Path(settings.LAKEGATE.paths.uploads).resolve()
    assert "\\" not in name
    assert ".." not in name
    assert "\x00" not in name
    execute_queued()
    assert _outside(project_root) == before
    assert not list(project_root.rglob("evil-upload.csv"))


def test_archive_entries_that_climb_out_are_kept_inside(api, settings, project_root, execute_queued):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil-entry/a.csv", CSV)
        archive.writestr("/abs-evil-entry/b.csv", CSV)
        archive.writestr("..\\..\\evil-entry-win.csv", CSV)
        link = zipfile.ZipInfo("link.csv")
        link.external_attr = 0o120777 << 16  # a symbolic link entry pointing outside
        archive.writestr(link, "../../../../etc/passwd")
    before = _outside(project_root)
    editor = api("editor")
    response = editor.client.post(
        "/api/v1/datasets/archived/files",
        {"file": SimpleUploadedFile("bundle.zip", buffer.getvalue())},
        headers=editor.headers,
    )
    assert response.status_code == 202, response.content
    execute_queued()
    assert _outside(project_root) == before
    for name in ("evil-entry", "abs-evil-entry", "evil-entry-win.csv"):
        assert not list(project_root.parent.glob(name)), name
        assert not list(Path("/").glob(name)), name
    assert not list(project_root.rglob("passwd"))


@pytest.mark.parametrize("entry", ["../../etc/passwd", "..", "%2e%2e", "..%2f..%2fetc", "x/../../y", "\x00"])
def test_a_quarantine_id_is_an_id_not_a_path(entry, api, settings):
    segment = quote(entry, safe="")
    response = api("editor").post(f"/api/v1/quarantine/{segment}/retry")
    assert response.status_code in {404, 422}, response.content[:300]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    browser = Client()
    browser.force_login(user_create(username="qe", password="correct-horse-battery", role="editor"))
    page = browser.post(f"/quarantine/{segment}/retry/")
    assert page.status_code in {302, 404}, page.content[:300]


@pytest.mark.parametrize("kb", ["../../etc", "..", "/etc/passwd", "a/../../b"])
def test_a_knowledge_base_is_named_from_the_configuration_only(kb, api):
    response = api("viewer").get("/api/v1/kb/search", q="x", kb=kb)
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        ("env:../../etc/passwd", "env_not_allowed"),
        ("env:PATH", "env_not_allowed"),
        ("dlt:filesystem", "dlt_not_allowed"),
        ("dlt:../../x", "invalid_target"),
    ],
)
def test_export_targets_name_no_file(to, reason, api):
    response = api("editor").post("/api/v1/datasets/probe/export", {"to": to, "table": "../../t"})
    assert response.status_code == 422, response.content[:300]
    assert response.json()["error"]["detail"]["reason"] == reason


NUL_PROBES = [
    ("GET", "/api/v1/models/a%00b"),
    ("GET", "/api/v1/models/a%00b/audit"),
    ("GET", "/api/v1/lineage/model/a%00b/1"),
    ("GET", "/api/v1/runs?kind=a%00b"),
    ("GET", "/api/v1/ledger?dataset=a%00b"),
    ("GET", "/api/v1/ledger?model=a%00b"),
    ("POST", "/api/v1/pipelines/a%00b/runs"),
    ("POST", "/api/v1/sources/a%00b/run"),
    ("GET", "/api/v1/kb/search?q=x&kb=a%00b"),
    ("GET", "/api/v1/datasets/a%00b"),
]


@pytest.mark.parametrize(("method", "url"), NUL_PROBES, ids=[f"{m} {u}" for m, u in NUL_PROBES])
def test_a_nul_character_is_never_a_server_error(method, url, api):
    """PostgreSQL refuses NUL in text (a 422 naming the cause); SQLite matches nothing (404, or
    an empty list): never a 500."""
    admin = api("admin")
    response = admin.client.generic(
        method, url, b"{}", content_type="application/json", headers=admin.headers
    )
    assert response.status_code < 500, response.content[:300]
    assert "error" in response.json() or response.status_code == 200


def test_a_nul_character_in_a_body_is_never_a_server_error(api):
    response = api("admin").post("/api/v1/tokens", {"name": "a\x00b", "role": "viewer"})
    assert response.status_code in {201, 422}, response.content[:300]
