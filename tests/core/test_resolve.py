from __future__ import annotations

import pytest

from lakegate._resolve import resolve
from lakegate.errors import LakegateError


def test_both_dotted_forms_resolve():
    assert resolve("lakegate.errors:LakegateError") is LakegateError
    assert resolve("lakegate.errors.LakegateError") is LakegateError


def test_a_missing_module_or_attribute_is_named():
    with pytest.raises(ImportError, match="no_such_module"):
        resolve("no_such_module:thing")
    with pytest.raises(AttributeError, match=r"module .lakegate\.errors. has no attribute .Nope."):
        resolve("lakegate.errors:Nope")
    with pytest.raises(ImportError, match="not a dotted path"):
        resolve("plain")
