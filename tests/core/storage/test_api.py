"""The curated surface of ``lakegate.storage`` and the place of its error in the tree."""

from __future__ import annotations

from types import ModuleType

import lakegate.storage
from lakegate import errors


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(lakegate.storage).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    }
    assert set(lakegate.storage.__all__) == public
    for name in lakegate.storage.__all__:
        assert hasattr(lakegate.storage, name)


def test_the_storage_error_is_a_transient_503_like_the_lakes():
    error = errors.StorageUnavailableError("s3://b/p: the storage is unreachable (...)")
    assert isinstance(error, errors.Transient)
    assert isinstance(error, errors.LakegateError)
    assert not isinstance(error, errors.LakeUnavailableError)
    assert (error.http_status, error.code) == (503, "storage_unavailable")
    assert errors.LakeUnavailableError.http_status == error.http_status


def test_importing_the_seam_does_not_import_obstore():
    import subprocess
    import sys

    code = "import sys, lakegate.storage; print('obstore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
