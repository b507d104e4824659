"""lakegate.streams exports exactly its public API."""

from __future__ import annotations

from types import ModuleType

import lakegate.streams


def test_all_lists_the_public_names():
    public = sorted(
        name
        for name, value in vars(lakegate.streams).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    )
    assert sorted(lakegate.streams.__all__) == public
    assert {"parse_records", "StreamLog", "claim_batch", "ClaimedBatch", "consume_redis"} <= set(public)
