"""The storage of shared state: model artifacts, staged uploads, quarantine, knowledge bases,
prediction files and run logs, in one place every lakegate process can reach.

``storage: s3://bucket/prefix`` in lakegate.yaml (with ``storage_options``, the same keys and
``AWS_*`` credentials as ``lake:``) puts it in an object store; unset, it is the project's
``.lakegate/`` folder, laid out as always (:class:`Area`). Built on obstore, the Python
binding of the Rust ``object_store`` crate that delta-rs uses for the lake::

    storage = open_storage(settings)
    storage.check()                                   # at start: ConfigError / StorageUnavailableError
    key = storage.put_file(join_key(Area.UPLOADS, run_id, name), path)
    with storage.open(key) as f: ...
    prefix = unique_key(Area.MODELS, "churn")          # one fresh prefix per attempt
    upload_folder(storage, model_dir, prefix)          # files, then the manifest (the commit point)
    # ... then commit by a database row holding `prefix`; readers follow rows only:
    download_folder(storage, prefix, scratch)          # checked against the manifest
"""

from __future__ import annotations

from lakegate.errors import StorageUnavailableError
from lakegate.storage._folders import (
    MANIFEST,
    FolderFile,
    FolderManifest,
    download_folder,
    read_manifest,
    upload_folder,
)
from lakegate.storage._keys import Area, join_key, unique_key
from lakegate.storage._store import READ_CHUNK, ObjectInfo, Storage, open_storage

__all__ = [
    "MANIFEST",
    "READ_CHUNK",
    "Area",
    "FolderFile",
    "FolderManifest",
    "ObjectInfo",
    "Storage",
    "StorageUnavailableError",
    "download_folder",
    "join_key",
    "open_storage",
    "read_manifest",
    "unique_key",
    "upload_folder",
]
