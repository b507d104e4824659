"""A full or read-only disk is named as such at the lake's one error seam (no library wording to decode)."""

from __future__ import annotations

import errno

import pytest

from lakegate.errors import LakeError
from lakegate.lake import disk_problem
from lakegate.lake._location import table_errors


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full (no space left on device)"),
        (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "the disk quota is exceeded"),
        # delta-rs puts the OS error in words inside its own exception
        (
            RuntimeError(
                "Generic LocalFileSystem error: Unable to copy data to file: "
                "No space left on device (os error 28)"
            ),
            "the disk is full (no space left on device)",
        ),
        (
            RuntimeError("Os { code: 30, kind: ReadOnlyFilesystem }: os error 30"),
            "the file system is read-only",
        ),
        (OSError(errno.EACCES, "Permission denied"), None),
        (ValueError("bad value"), None),
    ],
)
def test_disk_problem_names_full_and_read_only_disks(exc, expected):
    assert disk_problem(exc) == expected


def test_a_cause_down_the_chain_counts():
    outer = RuntimeError("parquet write failed")
    outer.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert disk_problem(outer) == "the disk is full (no space left on device)"


def test_the_lake_seam_says_the_disk_is_full_and_that_nothing_was_committed(tmp_path):
    with pytest.raises(LakeError) as info, table_errors(tmp_path / "sales", "write"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.message == (
        f"{tmp_path / 'sales'}: cannot write the Delta table: the disk is full (no space left on device); "
        "nothing was committed"
    )
    assert info.value.detail["reason"] == "the disk is full (no space left on device)"
