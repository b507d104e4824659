"""Receive a multipart upload into the storage's staging area with a hard size limit.

The file ends at the key ``uploads/<id>/<name>`` of the storage (:mod:`lakegate.storage`):
on the default local storage a rename of Django's temporary file into ``.lakegate/uploads/``,
on an object store an upload, so the worker that runs its ``ingest`` may be on any host.

Two fences, both before the disk fills up:

- in front of Django, the ASGI guard (``lakegate_server.serving.guard``) answers 413 to a
  ``Content-Length`` over ``web.max_upload_bytes`` (plus a little multipart framing) before
  reading anything, and to a chunked body as soon as it passes that size;
- here, an upload handler first in Django's chain counts the file's own bytes as the parser
  hands them on and stops the upload (``StopUpload``) at the first byte over the limit: the
  temporary file holds at most the limit, and Django closes and deletes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from lakegate.config import Settings
from lakegate.errors import InputError, PayloadTooLargeError
from lakegate.storage import open_storage
from lakegate_server.datasets.inbox import stage_file, upload_key

__all__ = ["receive_upload"]

# Boundary lines and part headers around the file: a Content-Length over the limit by more
# than this cannot hold a file within it.
MULTIPART_SLACK = 64 * 1024


class _SizeLimit(FileUploadHandler):
    """First in the handler chain: refuses an oversized body by its header and by counting."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.seen = 0
        self.refused = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,  # noqa: N803 - Django's name
        content_length: int,
        boundary: Any,
        encoding: Any = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]] | None:
        if content_length and content_length > self.limit + MULTIPART_SLACK:
            self.refused = True
            return QueryDict(), MultiValueDict()  # parsed as empty: not a byte of the body is read
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.refused = True
            # connection_reset: do not read the rest of the body; Django closes (deletes) the
            # temporary file the next handler opened.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def receive_upload(request: HttpRequest, *, config: Settings, field: str = "file") -> tuple[str, str]:
    """Stage the multipart file ``field`` at ``uploads/<id>/<name>`` in the storage; return (key, name)."""
    limit = config.web.max_upload_bytes
    guard = _SizeLimit(request, limit)
    request.upload_handlers.insert(0, guard)
    upload: UploadedFile | None = request.FILES.get(field)
    if guard.refused:
        raise PayloadTooLargeError(
            f"upload is larger than web.max_upload_bytes={limit}", detail={"limit": limit}
        )
    if upload is None:
        raise InputError(f"send the file as the multipart form field {field!r}", detail={"field": field})
    original = Path(upload.name or "upload").name
    if isinstance(upload, TemporaryUploadedFile):
        # A local storage is on the same filesystem (FILE_UPLOAD_TEMP_DIR is in the project):
        # a rename, not a copy. Closing afterwards finds the temporary file gone, which
        # Django expects.
        try:
            key = stage_file(config, Path(upload.temporary_file_path()), original)
        finally:
            upload.close()
    else:  # small enough to be held in memory (FILE_UPLOAD_MAX_MEMORY_SIZE)
        key = open_storage(config).put_bytes(upload_key(original), b"".join(upload.chunks()))
    return key, original
