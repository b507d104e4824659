from __future__ import annotations

import pytest

from lakegate._optional import require
from lakegate.errors import (
    InputError,
    LakegateError,
    MissingExtraError,
    NotFoundError,
    QualityGateError,
    ReaderError,
    Transient,
    TransientJobError,
)


def test_errors_carry_code_status_and_exit_code():
    error = ReaderError("data/a.csv", "not UTF-8 at byte 12")
    assert isinstance(error, InputError)
    assert error.to_dict() == {
        "code": "unreadable_file",
        "message": "data/a.csv: not UTF-8 at byte 12",
        "detail": None,
    }
    assert (error.http_status, error.exit_code) == (422, 1)
    assert (NotFoundError("x").http_status, QualityGateError("x").exit_code) == (404, 3)
    assert isinstance(TransientJobError("db"), Transient)
    assert not isinstance(InputError("x"), Transient)


def test_a_missing_extra_names_the_pip_line():
    with pytest.raises(MissingExtraError) as info:
        require("surely_not_installed_pkg", extra="minilm", feature="Neural embeddings")
    assert info.value.message == (
        "Neural embeddings needs the optional package 'surely_not_installed_pkg': "
        "pip install 'lakegate[minilm]'"
    )
    assert isinstance(info.value, LakegateError)
