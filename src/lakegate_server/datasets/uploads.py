"""Receive a multipart upload into ``.lakegate/uploads/`` with a hard size limit.

Django has no default cap on file size, so an upload handler counts bytes as they stream
in and stops the request past ``web.max_upload_bytes`` (413), before the disk fills up.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest

from lakegate.config import Settings
from lakegate.errors import InputError, PayloadTooLargeError
from lakegate.formats import safe_name
from lakegate_server.datasets.inbox import stage_upload_dir

__all__ = ["receive_upload"]


class _SizeLimit(FileUploadHandler):
    """First in the handler chain: refuses an oversized body by its header and by counting."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.seen = 0

    def _refuse(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"upload is larger than web.max_upload_bytes={self.limit}", detail={"limit": self.limit}
        )

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,  # noqa: N803 - Django's name
        content_length: int,
        boundary: Any,
        encoding: Any = None,
    ) -> None:
        if content_length and content_length > self.limit:
            raise self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            raise self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def receive_upload(request: HttpRequest, *, config: Settings, field: str = "file") -> tuple[Path, str]:
    """Save the multipart file ``field`` under ``.lakegate/uploads/<id>/``; return (path, name)."""
    request.upload_handlers.insert(0, _SizeLimit(request, config.web.max_upload_bytes))
    upload: UploadedFile | None = request.FILES.get(field)
    if upload is None:
        raise InputError(f"send the file as the multipart form field {field!r}", detail={"field": field})
    original = Path(upload.name or "upload").name
    target = stage_upload_dir(config) / safe_name(original, default="upload")
    if isinstance(upload, TemporaryUploadedFile):
        # Same filesystem (FILE_UPLOAD_TEMP_DIR is in the project): a rename, not a copy.
        # Closing afterwards finds the temporary file gone, which Django expects.
        shutil.move(upload.temporary_file_path(), target)
        upload.close()
    else:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    return target, original
