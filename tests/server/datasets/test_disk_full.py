"""A full or read-only disk during ingest: a clear error, nothing half-written visible, the file kept.

Two ways: the disk errors simulated at the write seams (always), and a real 1 MiB tmpfs
mounted over the dataset's table folder (when this machine lets the tests mount one: root,
and a kernel that allows it; skipped otherwise, saying why).
"""

from __future__ import annotations

import contextlib
import errno
import random
import string
import subprocess
from pathlib import Path

import pytest

from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
from lakegate_server.datasets.services import QuarantinedError
from lakegate_server.flow import ingest_file

pytestmark = pytest.mark.django_db(transaction=True)


def _csv(path: Path, rows: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = ["n,word,x"] + [
        f"{i},{''.join(rng.choices(string.ascii_letters, k=24))},{rng.random()}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows_in_table(name: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(project().lake_table(name))).to_pyarrow_dataset().count_rows()


def _assert_kept(info: pytest.ExceptionInfo[QuarantinedError], source: Path, reason: str) -> None:
    assert info.value.detail["reason_code"] == "lake_error"
    assert reason in info.value.message
    assert "nothing was committed" in info.value.message
    entry = QuarantinedFile.objects.get(id=info.value.entry_id)
    kept = project().paths.quarantine / entry.id / source.name
    assert kept.read_bytes() == source.read_bytes(), "the quarantine holds the file"
    assert source.is_file(), "the user's own file is never moved"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "the file system is read-only")],
)
def test_a_disk_error_in_the_delta_write_is_named_and_commits_nothing(tmp_path, monkeypatch, code, reason):
    ingest_file(config=project(), dataset="sales", path=_csv(tmp_path / "day1.csv", 20), actor="test")

    def refuse(*args, **kwargs):
        raise OSError(code, errno.errorcode[code])

    monkeypatch.setattr("deltalake.write_deltalake", refuse)
    day2 = _csv(tmp_path / "day2.csv", 30, seed=1)
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="sales", path=day2, actor="test")
    _assert_kept(info, day2, reason)
    assert DatasetVersion.objects.count() == 1
    assert _rows_in_table("sales") == 20, "the table still reads as it was"


def test_a_full_scratch_disk_while_staging_is_named_too(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("lakegate_server.datasets.services.stage_file", full)
    day1 = _csv(tmp_path / "day1.csv", 20)
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="sales", path=day1, actor="test")
    _assert_kept(info, day1, "the disk is full")
    assert "day1.csv: cannot ingest into sales" in info.value.message
    assert not DatasetVersion.objects.exists()


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the seam tests cover it")
    try:
        yield lambda options: subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_real_full_then_read_only_disk_under_the_table(tmp_path):
    table = Path(str(project().lake_table("sales")))
    with _tmpfs(table, "1m") as remount:
        ingest_file(config=project(), dataset="sales", path=_csv(tmp_path / "small.csv", 20), actor="test")

        big = _csv(tmp_path / "big.csv", 60_000, seed=2)  # ~2.5 MB of text, well over 1 MiB as Parquet
        with pytest.raises(QuarantinedError) as info:
            ingest_file(config=project(), dataset="sales", path=big, actor="test")
        _assert_kept(info, big, "the disk is full")
        assert DatasetVersion.objects.count() == 1
        assert _rows_in_table("sales") == 20, "the Delta log never names the half-written part"

        remount("ro")
        more = _csv(tmp_path / "more.csv", 5, seed=3)
        with pytest.raises(QuarantinedError) as info:
            ingest_file(config=project(), dataset="sales", path=more, actor="test")
        _assert_kept(info, more, "read-only")
        assert _rows_in_table("sales") == 20
